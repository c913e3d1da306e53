/**
 * A load-generator process, driven by the orchestrator over IPC: opens lean subscriber sockets
 * (`connect`), reports what they received (`snapshot`), or publishes (`publish` for a time,
 * `publish-count` for a number of messages). It exits when the orchestrator goes away, so it can
 * never outlive a benchmark.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import type {
  ConnectRequest,
  ConnectResult,
  PaceRequest,
  ProgressMessage,
  PublishCountRequest,
  PublishCountResult,
  PublishRequest,
  SnapshotRequest,
  SubSnapshot,
} from '../lib/ipc.js';
import { publishPipelined } from '../lib/pipelined.js';
import { LeanSocket, onSample, totals } from './lean-socket.js';
import { payload, publish } from './publisher.js';

/** Latencies up to one minute, in microseconds, 3 significant digits. */
const newHistogram = () =>
  hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });

let histogram = newHistogram();
onSample((micros) => histogram.recordValue(Math.min(micros, 60_000_000)));

const sockets: LeanSocket[] = [];
/** Event-loop delay is sampled by a timer of this period; the histogram includes the period. */
const LOOP_RESOLUTION_MS = 10;
const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
loopDelay.enable();

const send = (m: unknown): void => {
  process.send?.(m);
};

async function connectAll(req: ConnectRequest): Promise<ConnectResult> {
  const started = performance.now();
  let connected = 0;
  let failed = 0;
  const errors = new Set<string>();
  let next = 0;
  const progress = setInterval(() => {
    const m: ProgressMessage = { type: 'progress', connected, failed };
    send(m);
  }, 250);
  const one = async (): Promise<void> => {
    while (next < req.count) {
      const g = req.firstIndex + next++;
      const target = req.targets[g % req.targets.length];
      if (target === undefined) throw new Error('no target');
      const channel = g % target.paths.length;
      const s = new LeanSocket({
        host: target.host,
        port: target.port,
        path: target.paths[channel] as string,
        sio: target.protocol === 'sio',
        room: target.rooms[channel] as string,
        sampler: req.sampleEvery > 0 && g % req.sampleEvery === 0,
        timeoutMs: req.timeoutMs,
        ...(req.sources.length > 0 ? { localAddress: req.sources[g % req.sources.length] as string } : {}),
      });
      try {
        await s.ready();
        sockets.push(s);
        connected++;
      } catch (e) {
        failed++;
        s.destroy();
        if (errors.size < 5) errors.add((e as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, req.concurrency) }, one));
  clearInterval(progress);
  return {
    type: 'connected',
    id: req.id,
    connected,
    failed,
    errors: [...errors],
    ms: performance.now() - started,
  };
}

function snapshot(req: SnapshotRequest): SubSnapshot {
  let open = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = 0;
  for (const s of sockets) {
    if (s.phase === 4) open++;
    if (s.received < min) min = s.received;
    if (s.received > max) max = s.received;
  }
  const out: SubSnapshot = {
    type: 'snapshot',
    id: req.id,
    open,
    received: totals.received,
    bytes: totals.bytes,
    minPerSocket: sockets.length === 0 ? 0 : min,
    maxPerSocket: max,
    closes: Object.fromEntries(totals.closes),
    samples: totals.samples,
    pings: totals.pings,
    // Paced, the loop is late by design: what matters is how long a turn works between sleeps.
    loopDelayP99Ms:
      pacedMs > 0
        ? turnWork.getValueAtPercentile(99) / 1000
        : Math.max(0, loopDelay.percentile(99) / 1e6 - LOOP_RESOLUTION_MS),
  };
  if (req.histogram) {
    out.histogram = hdr.encodeIntoCompressedBase64(histogram);
    histogram = newHistogram();
    loopDelay.reset();
    turnWork.reset();
  }
  return out;
}

/**
 * Read pacing: the process sleeps `ms` between turns of its event loop, so bytes pile up in the
 * kernel and each read returns many messages. A subscriber then costs one read per batch instead of
 * one per message, which keeps the generator far cheaper than the server it measures; the price is
 * up to `ms` of added latency, so the latency scenario does not pace.
 */
const sleeper = new Int32Array(new SharedArrayBuffer(4));
let pacedMs = 0;
let pacing = false;
/** While paced: how long each turn worked between two sleeps, in microseconds. */
const turnWork = hdr.build({
  lowestDiscernibleValue: 1,
  highestTrackableValue: 60_000_000,
  numberOfSignificantValueDigits: 2,
});
let wokeAt = 0;
/** Sleeps once per event-loop turn (in the check phase, right after the turn's reads). */
const paceTurn = (): void => {
  if (pacedMs <= 0) {
    pacing = false;
    wokeAt = 0;
    return;
  }
  const now = performance.now();
  if (wokeAt > 0) turnWork.recordValue(Math.min(60_000_000, Math.max(1, (now - wokeAt) * 1000)));
  Atomics.wait(sleeper, 0, 0, pacedMs);
  wokeAt = performance.now();
  setImmediate(paceTurn);
};
function pace(ms: number): void {
  pacedMs = ms;
  if (ms > 0 && !pacing) {
    pacing = true;
    setImmediate(paceTurn);
  }
}

process.on('message', (m: { type: string; id: number }) => {
  if (m.type === 'connect') {
    connectAll(m as ConnectRequest).then(send, (e: Error) => {
      process.stderr.write(`connect failed: ${e.stack}\n`);
      process.exit(1);
    });
  } else if (m.type === 'pace') {
    pace((m as PaceRequest).ms);
    send({ type: 'paced', id: m.id });
  } else if (m.type === 'snapshot') {
    send(snapshot(m as SnapshotRequest));
  } else if (m.type === 'publish-count') {
    const r = m as PublishCountRequest;
    publishPipelined({
      host: r.host,
      port: r.port,
      channel: r.channel,
      topic: r.topic,
      count: r.count,
      connections: r.connections,
      window: r.window,
      body: () => payload(performance.timeOrigin + performance.now(), r.payloadBytes),
      timeoutMs: r.timeoutMs,
    }).then(
      (res) => {
        const out: PublishCountResult = { type: 'published-count', id: m.id, ...res };
        send(out);
      },
      (e: Error) => {
        process.stderr.write(`publish failed: ${e.stack}\n`);
        process.exit(1);
      },
    );
  } else if (m.type === 'publish') {
    publish(m as PublishRequest).then(
      (r) => send({ ...r, id: m.id }),
      (e: Error) => {
        process.stderr.write(`publish failed: ${e.stack}\n`);
        process.exit(1);
      },
    );
  }
});

// The orchestrator is gone (or done with us): close everything and leave.
process.on('disconnect', () => {
  for (const s of sockets) s.destroy();
  process.exit(0);
});
