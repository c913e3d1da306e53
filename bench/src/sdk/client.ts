/**
 * An SDK client process for scenario 6, driven by the orchestrator over IPC:
 * `node --expose-gc sdk/client.js <herald|inngest-0.4.7>`. It runs exactly one `subscribe()` of one
 * SDK, so its CPU and heap are that client's alone (the server and the publisher are other
 * processes). Both SDKs get the same WebSocket: `ws` as `globalThis.WebSocket` (Node 20 has no global
 * one; 0.4.7 needs it, @herald/realtime would fall back to `ws` anyway).
 *
 * - `read`: a `for await` loop reads the stream `subscribe()` returned and counts, nothing else.
 * - `unread`: nobody reads the stream; data frames are counted at the WebSocket (a listener on a
 *   `ws` subclass), so the process knows when everything arrived and can measure its heap.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket, { type RawData } from 'ws';
import type {
  SdkClientId,
  SdkDrainRequest,
  SdkDrainResult,
  SdkHeapRequest,
  SdkHeapResult,
  SdkReadRequest,
  SdkReadResult,
  SdkSubscribed,
  SdkSubscribeRequest,
} from '../lib/ipc.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const PACKAGES: Record<SdkClientId, string> = {
  herald: '@herald/realtime',
  'inngest-0.4.7': '@inngest/realtime',
};

const client = process.argv[2] as SdkClientId;
if (!(client in PACKAGES)) {
  process.stderr.write(`usage: client.js <${Object.keys(PACKAGES).join('|')}>\n`);
  process.exit(2);
}

const gc = (globalThis as { gc?: () => void }).gc;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const send = (m: unknown): void => {
  process.send?.(m);
};

function heap(): { heapUsed: number; rss: number } {
  if (!gc) throw new Error('run with --expose-gc');
  for (let i = 0; i < 3; i++) gc();
  const u = process.memoryUsage();
  return { heapUsed: u.heapUsed, rss: u.rss };
}

function versionOf(pkg: string): string {
  try {
    return (
      JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }
    ).version;
  } catch {
    return 'unknown';
  }
}

/** Data frames that reached the WebSocket (unread mode only). */
let frames = 0;
const DATA_KIND = Buffer.from('"kind":"data"');

class CountingWebSocket extends WebSocket {
  constructor(address: string | URL, protocols?: string | string[]) {
    super(address, protocols);
    this.on('message', (data: RawData, isBinary: boolean) => {
      if (!isBinary && Buffer.isBuffer(data) && data.includes(DATA_KIND)) frames++;
    });
  }
}

type Stream = AsyncIterable<unknown> & { close?: (reason?: string) => void };
type Subscribe = (options: Record<string, unknown>) => Promise<Stream>;

let stream: Stream | undefined;
let mode: 'read' | 'unread' = 'read';
let reading: Promise<void> | undefined;
const readState = {
  received: 0,
  firstAt: 0,
  lastAt: 0,
  cpuMicros: 0,
  warmReceived: 0,
  warmAt: 0,
  warmCpuMicros: 0,
  error: undefined as string | undefined,
};

async function subscribeNow(req: SdkSubscribeRequest): Promise<SdkSubscribed> {
  if (stream) throw new Error('one subscription per process');
  mode = req.mode;
  (globalThis as { WebSocket?: unknown }).WebSocket = mode === 'unread' ? CountingWebSocket : WebSocket;
  const pkg = PACKAGES[client];
  const mod = (await import(pkg)) as { subscribe: Subscribe };
  // 0.4.7 takes its base URL from INNGEST_BASE_URL (set by the orchestrator); Herald's option is explicit.
  const options: Record<string, unknown> = { channel: req.channel, topics: [req.topic], key: req.key };
  if (client === 'herald') options.apiBaseUrl = req.baseUrl;
  const s = await mod.subscribe(options);
  stream = s;
  const { heapUsed } = heap();
  if (mode === 'read') {
    const cpu0 = process.cpuUsage();
    // The first 10 % warm the client's JIT up; rates are also taken over the rest.
    const warm = Math.max(1, Math.ceil(req.expect / 10));
    reading = (async () => {
      try {
        for await (const _ of s) {
          const now = performance.now();
          if (readState.received === 0) readState.firstAt = now;
          readState.received++;
          readState.lastAt = now;
          if (readState.received === warm) {
            const c = process.cpuUsage(cpu0);
            readState.warmReceived = warm;
            readState.warmAt = now;
            readState.warmCpuMicros = c.user + c.system;
          }
          if (readState.received >= req.expect) break;
        }
        if (readState.received < req.expect)
          readState.error = `the stream ended after ${readState.received} of ${req.expect} messages`;
      } catch (e) {
        readState.error = `${(e as Error).name}: ${(e as Error).message}`;
      } finally {
        const c = process.cpuUsage(cpu0);
        readState.cpuMicros = c.user + c.system;
      }
    })();
  }
  return { type: 'sdk-subscribed', id: req.id, heapUsed, sdkVersion: versionOf(pkg) };
}

async function readResult(req: SdkReadRequest): Promise<SdkReadResult> {
  if (!reading) throw new Error('not subscribed in read mode');
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    reading,
    new Promise<void>((r) => {
      timer = setTimeout(() => {
        timedOut = true;
        r();
      }, req.timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  const c = timedOut ? undefined : readState.cpuMicros;
  return {
    type: 'sdk-read',
    id: req.id,
    received: readState.received,
    firstAt: readState.firstAt,
    lastAt: readState.lastAt,
    cpuMicros: c ?? 0,
    warmReceived: readState.warmReceived,
    warmAt: readState.warmAt,
    warmCpuMicros: readState.warmCpuMicros,
    ...(timedOut
      ? { error: `only ${readState.received} messages read within ${req.timeoutMs} ms` }
      : readState.error
        ? { error: readState.error }
        : {}),
  };
}

async function heapAfter(req: SdkHeapRequest): Promise<SdkHeapResult> {
  const until = performance.now() + req.timeoutMs;
  while (frames < req.frames && performance.now() < until) await sleep(10);
  if (frames < req.frames)
    throw new Error(`only ${frames} of ${req.frames} data frames arrived within ${req.timeoutMs} ms`);
  // Let the SDK's own promise chains for the last frames settle before measuring.
  await sleep(100);
  return { type: 'sdk-heap', id: req.id, frames, ...heap() };
}

async function drain(req: SdkDrainRequest): Promise<SdkDrainResult> {
  const s = stream;
  if (!s) throw new Error('not subscribed');
  // @herald/realtime: close() ends the stream after what it holds; 0.4.7's stream has no close.
  s.close?.('bench: draining');
  const it = s[Symbol.asyncIterator]();
  let held = 0;
  let ending = 'still open';
  let finished = false;
  const loop = (async () => {
    try {
      for (;;) {
        const r = await it.next();
        if (r.done) {
          ending = 'ended';
          break;
        }
        held++;
      }
    } catch (e) {
      ending = `${(e as Error).name}: ${(e as Error).message}`;
    } finally {
      finished = true;
    }
  })();
  const until = performance.now() + req.timeoutMs;
  let last = -1;
  let lastChange = performance.now();
  while (!finished && performance.now() < until) {
    await sleep(50);
    if (held !== last) {
      last = held;
      lastChange = performance.now();
    } else if (performance.now() - lastChange >= req.idleMs) break;
  }
  if (!finished) ending = `still open (nothing more for ${req.idleMs} ms)`;
  void loop;
  return { type: 'sdk-drain', id: req.id, held, ending };
}

const handlers: Record<string, (m: never) => Promise<unknown>> = {
  'sdk-subscribe': subscribeNow,
  'sdk-read': readResult,
  'sdk-heap': heapAfter,
  'sdk-drain': drain,
};

process.on('message', (m: { type: string; id: number }) => {
  const h = handlers[m.type];
  if (!h) return;
  (h as (x: typeof m) => Promise<unknown>)(m).then(send, (e: Error) => {
    process.stderr.write(`${m.type} failed: ${e.stack}\n`);
    process.exit(1);
  });
});

process.on('disconnect', () => process.exit(0));
// A normal exit on SIGTERM, so that `--cpu-prof` (bench --profile) writes its profile.
process.on('SIGTERM', () => process.exit(0));
// An SDK may report errors on its own (0.4.7 logs a socket error with console.error): keep going,
// the orchestrator sees missing messages.
process.on('unhandledRejection', (e) => {
  process.stderr.write(`unhandled rejection: ${(e as Error)?.stack ?? String(e)}\n`);
});
