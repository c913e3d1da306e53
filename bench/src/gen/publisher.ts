/**
 * HTTP publishers: POST /v1/realtime/publish over keep-alive connections, either closed loop (a
 * fixed number of requests in flight, each sent when one completes) or open loop (a fixed rate,
 * stamped with the scheduled time so a slow server cannot hide its queueing). Each body carries
 * its publish time in `"t"` (ms since the epoch) for the subscribers' latency samples.
 */
import { Agent, request } from 'node:http';
import type { PublishRequest, PublishResult } from '../lib/ipc.js';

/** Open loop: how often the scheduler wakes up to send what is due. */
const TICK_MS = 2;

/** A JSON body of exactly `bytes` bytes: `{"t":<ms>,"p":"xxx…"}`. */
export function payload(t: number, bytes: number): string {
  const head = `{"t":${t.toFixed(3)},"p":"`;
  return `${head}${'x'.repeat(Math.max(0, bytes - head.length - 2))}"}`;
}

const now = (): number => performance.timeOrigin + performance.now();

export async function publish(req: PublishRequest): Promise<PublishResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: req.inflight, maxFreeSockets: req.inflight });
  const targets = req.urls.map((u) => new URL(u));
  let sent = 0;
  let ok = 0;
  let failed = 0;
  let skipped = 0;
  let outstanding = 0;
  const errors = new Set<string>();
  const started = performance.now();
  const deadline = started + req.durationMs;

  const post = (t: number): Promise<void> => {
    const n = sent++;
    const target = targets[n % targets.length] as URL;
    const channel = req.channels[n % req.channels.length] as string;
    const body = payload(t, req.payloadBytes);
    outstanding++;
    return new Promise<void>((resolve) => {
      const done = (good: boolean, why?: string) => {
        outstanding--;
        if (good) ok++;
        else {
          failed++;
          if (why && errors.size < 5) errors.add(why);
        }
        resolve();
      };
      const r = request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          method: 'POST',
          path: `/v1/realtime/publish?channel=${encodeURIComponent(channel)}&topic=${encodeURIComponent(req.topic)}`,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          timeout: 30_000,
        },
        (res) => {
          res.resume();
          res.on('end', () => done(res.statusCode === 200, `HTTP ${res.statusCode}`));
          res.on('error', (e) => done(false, e.message));
        },
      );
      r.on('timeout', () => r.destroy(new Error('publish timed out')));
      r.on('error', (e) => done(false, e.message));
      r.end(body);
    });
  };

  if (req.rate > 0) {
    // Open loop.
    const interval = 1000 / req.rate;
    let due = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const elapsed = performance.now() - started;
        if (elapsed >= req.durationMs) {
          clearInterval(timer);
          resolve();
          return;
        }
        const target = Math.floor(elapsed / interval);
        while (due <= target) {
          const scheduled = performance.timeOrigin + started + due * interval;
          due++;
          if (outstanding >= req.inflight) skipped++;
          else void post(scheduled);
        }
      }, TICK_MS);
    });
  } else {
    // Closed loop.
    const worker = async () => {
      while (performance.now() < deadline) await post(now());
    };
    await Promise.all(Array.from({ length: req.inflight }, worker));
  }
  // Let the last requests finish (bounded).
  const drainUntil = performance.now() + 10_000;
  while (outstanding > 0 && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 5));
  agent.destroy();
  return {
    type: 'published',
    id: 0,
    sent,
    ok,
    failed,
    skipped,
    ms: performance.now() - started,
    errors: [...errors],
  };
}
