/**
 * Shared machinery of the fuzz suites (fuzz-http, fuzz-ws): the run mode (quick in `npm test`,
 * long by duration under `npm run fuzz -- --duration <s>`), a raw HTTP client over `net` that sends
 * exactly the bytes it is given, the invariants every answer must meet, a control feed of numbered
 * messages that must arrive intact while the fuzz runs, a heap probe through the process's
 * inspector, and the tally every suite prints and writes to test-results/hardening/.
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import fc from 'fast-check';
import WebSocket from 'ws';
import { SseClient } from '../server/helpers.js';
import { FrameCollector } from '../support/client.js';
import { type HeraldProcess, type StartOptions, startHerald } from '../support/herald.js';

// ---------------------------------------------------------------------------------------------
// Run mode

/** Seconds of fuzzing per suite in the long variant (`npm run fuzz -- --duration N`); 0 = quick. */
export const FUZZ_SECONDS = Number(process.env.HERALD_FUZZ_SECONDS ?? '0') || 0;
export const LONG = FUZZ_SECONDS > 0;

/** Quick runs use a fixed seed (reproducible); long runs a random one unless HERALD_FUZZ_SEED is set. */
export function seedFor(fixed: number): number {
  const given = Number(process.env.HERALD_FUZZ_SEED);
  if (Number.isInteger(given)) return given;
  return LONG ? (Math.random() * 2 ** 31) | 0 : fixed;
}

/** A test's timeout: generous for the quick variant, the duration plus settling for the long one. */
export function timeoutMs(quickMs: number): number {
  return LONG ? FUZZ_SECONDS * 1000 + 180_000 : quickMs;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** In the long variant, when the current `rounds` call must stop (runs past it are interrupted). */
let deadline: number | undefined;

/**
 * Runs `body(seed, numRuns)` once with the quick settings, or, in the long variant, in rounds
 * (each with its own seed derived from `seed`) until `share` of the duration has passed; the
 * round under way when time is up is cut short.
 */
export async function rounds(
  seed: number,
  numRuns: number,
  share: number,
  body: (seed: number, numRuns: number) => Promise<void>,
): Promise<number> {
  if (!LONG) {
    await body(seed, numRuns);
    return 1;
  }
  deadline = Date.now() + FUZZ_SECONDS * 1000 * share;
  let round = 0;
  try {
    do {
      await body((seed + round * 7919) | 0, numRuns);
      round++;
    } while (Date.now() < deadline);
  } finally {
    deadline = undefined;
  }
  return round;
}

/** Runs a property as a generator: every input is tried, violations are counted by the tally. */
export async function generate<T>(
  arb: fc.Arbitrary<T>,
  seed: number,
  numRuns: number,
  run: (input: T) => Promise<void>,
): Promise<void> {
  if (deadline !== undefined && Date.now() >= deadline) return;
  // Past the deadline the remaining inputs are skipped, not interrupted: fast-check's time-limit
  // interruption abandons the input under way, whose run then races the caller's clean-up (two
  // probes on one connection at once, each seeing the other's reply).
  const details = await fc.check(
    fc.asyncProperty(arb, async (input) => {
      if (deadline !== undefined && Date.now() >= deadline) return true;
      await run(input);
      return true;
    }),
    { seed, numRuns, endOnFailure: true },
  );
  // The property never fails by itself; an exception in the harness does.
  if (details.failed) throw (details.errorInstance as Error | undefined) ?? new Error('fuzz harness failed');
}

// ---------------------------------------------------------------------------------------------
// What the docs promise

const PROTOCOL_MD = new URL('../../docs/protocol.md', import.meta.url);

/** The rows' first cells (numbers) of the markdown table under `heading` in docs/protocol.md. */
function documentedCodes(heading: string): Set<number> {
  const text = readFileSync(PROTOCOL_MD, 'utf8');
  const start = text.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`docs/protocol.md has no "${heading}" section`);
  const rest = text.slice(start + heading.length + 2);
  const end = rest.search(/\n#{2,3} /);
  const codes = new Set<number>();
  for (const m of (end < 0 ? rest : rest.slice(0, end)).matchAll(/^\| `?(\d{3,4})`? +\|/gm))
    codes.add(Number(m[1]));
  if (codes.size === 0) throw new Error(`docs/protocol.md "${heading}" lists no codes`);
  return codes;
}

/** HTTP statuses docs/protocol.md documents ("### Statuses"). */
export const documentedStatuses = (): Set<number> => documentedCodes('### Statuses');
/** WebSocket close codes docs/protocol.md documents ("## Close codes"). */
export const documentedCloseCodes = (): Set<number> => documentedCodes('## Close codes');

// ---------------------------------------------------------------------------------------------
// The tally: what was tried and what came back, printed and written as JSON

export interface Violation {
  class: string;
  what: string;
  input: string;
}

export class Tally {
  readonly started = Date.now();
  readonly tried: Record<string, number> = {};
  readonly outcomes: Record<string, Record<string, number>> = {};
  readonly histogram: Record<string, number> = {};
  readonly violations: Violation[] = [];
  violationCount = 0;
  crashes = 0;
  readonly control = { sent: 0, received: {} as Record<string, number> };
  readonly extra: Record<string, unknown> = {};
  private sinceControl = 0;
  /** Called every `controlEvery` inputs (the interleaved valid traffic). */
  onEvery: (() => Promise<void>) | undefined;

  constructor(
    readonly suite: string,
    readonly seed: number,
    private readonly controlEvery = 20,
  ) {}

  /** One input of `cls` was tried; every `controlEvery` inputs, the control feed publishes. */
  async try(cls: string): Promise<void> {
    this.tried[cls] = (this.tried[cls] ?? 0) + 1;
    if (++this.sinceControl >= this.controlEvery && this.onEvery) {
      this.sinceControl = 0;
      await this.onEvery();
    }
  }

  outcome(cls: string, key: string | number): void {
    const k = String(key);
    const per = this.outcomes[cls] ?? {};
    this.outcomes[cls] = per;
    per[k] = (per[k] ?? 0) + 1;
    this.histogram[k] = (this.histogram[k] ?? 0) + 1;
  }

  violation(cls: string, what: string, input: string): void {
    this.violationCount++;
    // Keep the first few of each kind: enough to replay, not a flood.
    if (this.violations.filter((v) => v.class === cls && v.what === what).length < 3)
      this.violations.push({
        class: cls,
        what,
        input: input.length > 600 ? `${input.slice(0, 600)}…` : input,
      });
  }

  summary(): Record<string, unknown> {
    return {
      suite: this.suite,
      mode: LONG ? 'long' : 'quick',
      seed: this.seed,
      seconds: Math.round((Date.now() - this.started) / 100) / 10,
      inputs: Object.values(this.tried).reduce((a, b) => a + b, 0),
      tried: this.tried,
      crashes: this.crashes,
      violations: this.violationCount,
      histogram: this.histogram,
      outcomes: this.outcomes,
      control: this.control,
      ...this.extra,
      violationExamples: this.violations,
    };
  }

  /** Prints the counts as a table and writes them to test-results/hardening/<suite>.json. */
  async report(): Promise<void> {
    const s = this.summary();
    const lines = [
      `${this.suite} (${s.mode}, seed ${this.seed}; replay with HERALD_FUZZ_SEED=${this.seed}): ` +
        `${s.inputs} inputs in ${s.seconds} s, crashes ${this.crashes}, invariant violations ${this.violationCount}`,
      `  control messages: sent ${this.control.sent}, received ${JSON.stringify(this.control.received)}`,
      `  ${'class'.padEnd(26)} ${'inputs'.padStart(7)}  outcomes`,
    ];
    for (const [cls, n] of Object.entries(this.tried)) {
      const o = Object.entries(this.outcomes[cls] ?? {})
        .sort(([, a], [, b]) => b - a)
        .map(([k, v]) => `${k}×${v}`)
        .join(' ');
      lines.push(`  ${cls.padEnd(26)} ${String(n).padStart(7)}  ${o}`);
    }
    lines.push(
      `  all outcomes: ${Object.entries(this.histogram)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}×${v}`)
        .join(' ')}`,
    );
    for (const [k, v] of Object.entries(this.extra)) lines.push(`  ${k}: ${JSON.stringify(v)}`);
    for (const v of this.violations) lines.push(`  VIOLATION [${v.class}] ${v.what}\n    input: ${v.input}`);
    console.log(lines.join('\n'));
    const dir = new URL('../../test-results/hardening/', import.meta.url);
    await mkdir(dir, { recursive: true });
    await writeFile(new URL(`${this.suite}.json`, dir), `${JSON.stringify(s, null, 2)}\n`);
  }
}

// ---------------------------------------------------------------------------------------------
// Herald processes under fuzz: with an inspector, so the heap can be measured after a real GC

export interface FuzzHerald extends HeraldProcess {
  /** Forces a full GC in the process and returns the V8 heap in use, in bytes. */
  heapAfterGc(): Promise<number>;
  /** True while the process has not exited. */
  alive(): boolean;
}

/**
 * Starts Herald for fuzzing. History and idempotency keys expire after 2 s, so what the fuzz
 * published legitimately is gone before the heap is compared (what stays would be a leak). Tokens
 * live an hour: the suites mint theirs once, and the long variant outlives the default minute.
 */
export async function startFuzzHerald(options: StartOptions = {}): Promise<FuzzHerald> {
  const h = await startHerald({
    ...options,
    args: ['--history-ttl', '2', '--idempotency-window', '2', '--token-ttl', '3600', ...(options.args ?? [])],
    env: {
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --inspect=127.0.0.1:0`.trim(),
      ...options.env,
    },
  });
  const m = /Debugger listening on (ws:\/\/\S+)/.exec(h.output());
  if (!m) throw new Error(`no inspector URL in Herald's output:\n${h.output()}`);
  const inspectorUrl = m[1] as string;
  return Object.assign(h, {
    alive: () => h.proc.exitCode === null && h.proc.signalCode === null,
    heapAfterGc: () => heapAfterGc(inspectorUrl),
  });
}

/** Asks the process's inspector for two full GCs, then for the heap in use. */
async function heapAfterGc(inspectorUrl: string): Promise<number> {
  const ws = new WebSocket(inspectorUrl);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let id = 0;
  const call = (method: string): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const my = ++id;
      const onMessage = (data: WebSocket.RawData) => {
        const msg = JSON.parse(data.toString()) as { id?: number; result?: Record<string, unknown> };
        if (msg.id !== my) return;
        ws.off('message', onMessage);
        if (msg.result) resolve(msg.result);
        else reject(new Error(`${method}: ${data.toString()}`));
      };
      ws.on('message', onMessage);
      ws.send(JSON.stringify({ id: my, method }));
    });
  try {
    await call('HeapProfiler.collectGarbage');
    await sleep(50);
    await call('HeapProfiler.collectGarbage');
    return (await call('Runtime.getHeapUsage')).usedSize as number;
  } finally {
    ws.close();
  }
}

export interface HealthCounts {
  status: number;
  connections: number;
  subscriptions: number;
  channels: number;
}

export async function healthCounts(url: string): Promise<HealthCounts> {
  const res = await fetch(`${url}/health`);
  const h = (await res.json()) as HealthCounts;
  return {
    status: res.status,
    connections: h.connections,
    subscriptions: h.subscriptions,
    channels: h.channels,
  };
}

/**
 * Waits until /health reports the baseline's connection, subscription and channel counts again;
 * returns the last counts seen (equal to the baseline, or what was left after `timeoutMs`).
 */
export async function settleTo(
  url: string,
  baseline: HealthCounts,
  timeoutMs = 20_000,
): Promise<HealthCounts> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const h = await healthCounts(url);
    const same =
      h.connections === baseline.connections &&
      h.subscriptions === baseline.subscriptions &&
      h.channels === baseline.channels;
    if (same || Date.now() > until) return h;
    await sleep(100);
  }
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP over net: exactly the bytes given, and a small response parser

export interface ParsedResponse {
  status: number;
  /** Header names in lower case; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
  /** A 200 text/event-stream response: read up to its headers, then closed by the client. */
  stream: boolean;
}

export interface Exchange {
  responses: ParsedResponse[];
  /** The server closed (or reset) the connection. */
  closed: boolean;
  /** Nothing came back and the connection stayed open, even after the client half-closed. */
  hung: boolean;
  /** The server closed in the middle of a response it had framed. */
  truncated: boolean;
  /** The client half-closed because no answer came within `answerMs`. */
  halfClosed: boolean;
}

/** One piece of a request: bytes to write, or a pause (ms) before the next piece. */
export type Piece = Buffer | number;

export interface ExchangeOptions {
  /** Method of the first request (HEAD answers have no body). */
  method?: string;
  /** How long to wait for an answer after the last piece before half-closing. */
  answerMs?: number;
  /** After half-closing, how long to wait for an answer or a close before calling it a hang. */
  hangMs?: number;
}

const HEAD_END = Buffer.from('\r\n\r\n');

/** Parses as many complete responses as `buf` holds; `incomplete` says a response has begun. */
function parseResponses(
  buf: Buffer,
  firstMethod: string | undefined,
  atClose: boolean,
): { responses: ParsedResponse[]; incomplete: boolean } {
  const responses: ParsedResponse[] = [];
  let off = 0;
  while (off < buf.length) {
    const headEnd = buf.indexOf(HEAD_END, off);
    if (headEnd < 0) return { responses, incomplete: true };
    const head = buf.subarray(off, headEnd).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '');
    if (!m) return { responses, incomplete: true };
    const status = Number(m[1]);
    const headers: Record<string, string> = {};
    for (const line of head.slice(1)) {
      const i = line.indexOf(':');
      if (i < 0) continue;
      const k = line.slice(0, i).trim().toLowerCase();
      const v = line.slice(i + 1).trim();
      headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
    }
    let p = headEnd + 4;
    if (status >= 100 && status < 200) {
      off = p; // an interim answer (100 Continue): the real one follows
      continue;
    }
    const isHead = responses.length === 0 && firstMethod === 'HEAD';
    if (status === 200 && (headers['content-type'] ?? '').startsWith('text/event-stream')) {
      responses.push({ status, headers, body: Buffer.alloc(0), stream: true });
      return { responses, incomplete: false };
    }
    // A HEAD answer has no body, unless the server answered before it knew the method (an
    // unparsable request gets a full error answer): then the next bytes are not another answer.
    const bodyless =
      status === 204 ||
      status === 304 ||
      (isHead && (buf.length === p || buf.subarray(p, p + 5).toString('latin1') === 'HTTP/'));
    if (bodyless) {
      if (
        isHead &&
        buf.length === p &&
        !atClose &&
        headers['content-length'] !== undefined &&
        headers['content-length'] !== '0'
      ) {
        // Not yet known whether a body follows; decided at the close (or by more bytes).
        return { responses, incomplete: true };
      }
      responses.push({ status, headers, body: Buffer.alloc(0), stream: false });
      off = p;
      continue;
    }
    if (/\bchunked\b/i.test(headers['transfer-encoding'] ?? '')) {
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = buf.indexOf('\r\n', p);
        if (lineEnd < 0) return { responses, incomplete: true };
        const size = Number.parseInt(buf.subarray(p, lineEnd).toString('latin1'), 16);
        if (!Number.isFinite(size)) return { responses, incomplete: true };
        p = lineEnd + 2;
        if (size === 0) {
          const trailerEnd = buf.indexOf('\r\n', p);
          if (trailerEnd < 0) return { responses, incomplete: true };
          p = trailerEnd + 2;
          break;
        }
        if (p + size + 2 > buf.length) return { responses, incomplete: true };
        parts.push(buf.subarray(p, p + size));
        p += size + 2;
      }
      responses.push({ status, headers, body: Buffer.concat(parts), stream: false });
      off = p;
      continue;
    }
    if (headers['content-length'] !== undefined) {
      const len = Number(headers['content-length']);
      if (p + len > buf.length) return { responses, incomplete: true };
      responses.push({ status, headers, body: buf.subarray(p, p + len), stream: false });
      off = p + len;
      continue;
    }
    // Neither length nor chunks: the body runs to the close.
    if (!atClose) return { responses, incomplete: true };
    responses.push({ status, headers, body: buf.subarray(p), stream: false });
    off = buf.length;
  }
  return { responses, incomplete: false };
}

/**
 * Sends `pieces` on a fresh connection and collects the answers: until the server closes, a
 * streaming answer begins, or the connection idles after complete answers. With no answer
 * `answerMs` after the last piece, the client half-closes (the server must then answer or close
 * within `hangMs`, or the exchange is a hang).
 */
export function exchange(port: number, pieces: Piece[], options: ExchangeOptions = {}): Promise<Exchange> {
  const answerMs = options.answerMs ?? 2_000;
  const hangMs = options.hangMs ?? 5_000;
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let done = false;
    let sentAll = false;
    let halfClosed = false;
    let timer: NodeJS.Timeout | undefined;
    let idle: NodeJS.Timeout | undefined;
    const parse = (atClose: boolean) => parseResponses(Buffer.concat(chunks), options.method, atClose);
    const finish = (closed: boolean, hung = false) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(idle);
      const parsed = parse(closed);
      socket.destroy();
      resolve({
        responses: parsed.responses,
        closed,
        hung,
        truncated: closed && parsed.incomplete && chunks.length > 0,
        halfClosed,
      });
    };
    const armAnswerTimer = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (parse(false).responses.length > 0) return finish(false);
        halfClosed = true;
        socket.end();
        timer = setTimeout(() => finish(false, true), hangMs);
      }, answerMs);
    };
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      const parsed = parse(false);
      if (parsed.responses.some((r) => r.stream)) return finish(false);
      clearTimeout(idle);
      // Complete answers and nothing more pending: wait briefly for pipelined ones, then stop.
      if (parsed.responses.length > 0 && !parsed.incomplete && sentAll)
        idle = setTimeout(() => finish(false), 150);
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => {
      // A reset is a close; 'close' follows.
    });
    socket.once('connect', async () => {
      for (const piece of pieces) {
        if (done) return;
        if (typeof piece === 'number') await sleep(piece);
        else if (!socket.destroyed) socket.write(piece);
      }
      sentAll = true;
      if (done) return;
      const parsed = parse(false);
      if (parsed.responses.length > 0 && !parsed.incomplete) idle = setTimeout(() => finish(false), 150);
      armAnswerTimer();
    });
  });
}

export interface RequestSpec {
  method: string;
  /** The request target as bytes-to-be (latin1 string), e.g. "/health?x=1". */
  target: string;
  headers: [string, string][];
  body?: Buffer;
  /** Send the body chunked, in these pieces (ignores `body`). */
  chunks?: Buffer[];
}

/** Serializes a request; header names and values are written as latin1 bytes, exactly as given. */
export function serialize(spec: RequestSpec): Buffer {
  const headers = [...spec.headers];
  let body = spec.body ?? Buffer.alloc(0);
  if (spec.chunks) {
    headers.push(['Transfer-Encoding', 'chunked']);
    body = Buffer.concat([
      ...spec.chunks.flatMap((c) =>
        c.length ? [Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n')] : [],
      ),
      Buffer.from('0\r\n\r\n'),
    ]);
  } else if (spec.body !== undefined) headers.push(['Content-Length', String(body.length)]);
  const head = `${spec.method} ${spec.target} HTTP/1.1\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/** Percent-encodes a string's UTF-8 bytes (lone surrogates become U+FFFD, as any client would send). */
export function pct(s: string): string {
  return Buffer.from(s, 'utf8').toString('hex').replace(/../g, '%$&').toUpperCase();
}

// ---------------------------------------------------------------------------------------------
// Invariants of every HTTP answer

/** Routes whose success is not JSON: Prometheus text, the inspector's page and files, SSE. */
function nonJsonSuccess(path: string, method: string): boolean {
  if (method === 'OPTIONS') return true;
  return path === '/metrics' || path === '/' || path.startsWith('/assets/') || path === '/v1/realtime/sse';
}

/**
 * What is wrong with one answer, if anything: a status outside `allowed`, any 5xx, an error that
 * is not `{"error": "...", "status": <code>}` JSON, a JSON route answering something else.
 */
export function answerProblems(
  allowed: Set<number>,
  method: string,
  path: string,
  r: ParsedResponse,
): string[] {
  const problems: string[] = [];
  if (r.status >= 500) problems.push(`server error ${r.status}`);
  else if (!allowed.has(r.status)) problems.push(`undocumented status ${r.status}`);
  if (method === 'HEAD' || r.status === 204 || r.stream) return problems;
  // An answer to a pipelined request of unknown route: only its errors are checked.
  if (path === '?' && r.status < 400) return problems;
  const json = (r.headers['content-type'] ?? '').startsWith('application/json');
  if (r.status >= 400 || !nonJsonSuccess(path, method)) {
    if (!json) {
      problems.push(`${r.status} is not JSON (content-type ${r.headers['content-type'] ?? 'none'})`);
      return problems;
    }
    let body: unknown;
    try {
      body = JSON.parse(r.body.toString('utf8'));
    } catch {
      problems.push(`${r.status} body is not valid JSON`);
      return problems;
    }
    if (r.status >= 400) {
      const e = body as { error?: unknown; status?: unknown };
      if (typeof e !== 'object' || e === null || typeof e.error !== 'string' || e.status !== r.status)
        problems.push(`${r.status} error body lacks {"error": string, "status": ${r.status}}`);
    }
  }
  return problems;
}

/** The path of a request target as the server would route it (best effort, for the invariants). */
export function pathOf(target: string): string {
  try {
    return new URL(target, 'http://x.invalid').pathname;
  } catch {
    return '?';
  }
}

/** A printable form of request bytes for the violation log (JSON-escaped latin1). */
export function printable(pieces: Piece[]): string {
  return JSON.stringify(
    pieces.map((p) => (typeof p === 'number' ? `<pause ${p} ms>` : p.toString('latin1'))).join(''),
  );
}

// ---------------------------------------------------------------------------------------------
// The control feed: valid numbered messages interleaved with the fuzz, which must arrive intact

export interface ControlOptions {
  /** Extra headers for /token and /publish (the signing key under `herald start`). */
  headers?: Record<string, string>;
  /** WebSocket subscribers (default 1). */
  ws?: number;
  /** Also an SSE subscriber. */
  sse?: boolean;
}

export class ControlFeed {
  static readonly TOPIC = 'control';
  private readonly sent: string[] = [];
  private readonly wsSubs: FrameCollector[] = [];
  private sseSub: SseClient | undefined;
  private failures: string[] = [];

  private constructor(
    private readonly herald: HeraldProcess,
    readonly channel: string,
    private readonly headers: Record<string, string>,
    private readonly rnd: () => number,
  ) {}

  static async open(herald: HeraldProcess, options: ControlOptions = {}): Promise<ControlFeed> {
    const headers = options.headers ?? {};
    let seed = 12345;
    // A tiny deterministic generator for the payloads' varied (valid) unicode.
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const feed = new ControlFeed(herald, `control-${process.pid}-${Date.now()}`, headers, rnd);
    const res = await fetch(`${herald.url}/v1/realtime/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify([{ channel: feed.channel, name: ControlFeed.TOPIC }]),
    });
    if (res.status !== 201) throw new Error(`control token: ${res.status} ${await res.text()}`);
    const { jwt } = (await res.json()) as { jwt: string };
    for (let i = 0; i < (options.ws ?? 1); i++)
      feed.wsSubs.push(await FrameCollector.connect(herald.wsUrl, jwt));
    if (options.sse) {
      feed.sseSub = await SseClient.open(herald.url, jwt);
      if (feed.sseSub.status !== 200) throw new Error(`control SSE: ${feed.sseSub.status}`);
      await feed.sseSub.waitForText((t) => t.startsWith(':'), 'the SSE stream to open');
    }
    return feed;
  }

  /**
   * Publishes the next numbered message (JSON with varied unicode); it must be acknowledged.
   * Calls are queued, so the numbers are published in order even when callers overlap.
   */
  publishNext(): Promise<void> {
    this.queue = this.queue.then(() => this.publishOne());
    return this.queue;
  }

  private queue: Promise<void> = Promise.resolve();

  private async publishOne(): Promise<void> {
    const n = this.sent.length;
    const alphabet = ['a', 'é', 'ß', '中', '🙂', '\u05d0', '\u202e', '"', '\\', '\n', ' ', '0'];
    let text = '';
    for (let i = 0; i < 1 + Math.floor(this.rnd() * 40); i++)
      text += alphabet[Math.floor(this.rnd() * alphabet.length)];
    const body = JSON.stringify({ n, text });
    this.sent.push(body);
    const q = new URLSearchParams({ channel: this.channel, topic: ControlFeed.TOPIC });
    try {
      const res = await fetch(`${this.herald.url}/v1/realtime/publish?${q}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...this.headers },
        body,
      });
      const ack = await res.text();
      if (res.status !== 200) this.failures.push(`control publish ${n} answered ${res.status} ${ack}`);
    } catch (err) {
      // Counted, not thrown: the suite reports it (and a dead process) with its own context.
      this.failures.push(`control publish ${n} failed: ${(err as Error).message}`);
    }
  }

  get count(): number {
    return this.sent.length;
  }

  /** The subscribers' data, as JSON text, in arrival order. */
  private received(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    this.wsSubs.forEach((c, i) => {
      out[`ws${i + 1}`] = c.frames
        .filter((f) => f.kind === 'data' && f.topic === ControlFeed.TOPIC)
        .map((f) => JSON.stringify(f.data));
    });
    if (this.sseSub)
      out.sse = this.sseSub
        .events()
        .filter((e) => e.kind === 'data' && e.topic === ControlFeed.TOPIC)
        .map((e) => JSON.stringify(e.data));
    return out;
  }

  /**
   * Waits until every subscriber has every message, then checks each got them once, in order,
   * byte-identical, and stayed connected. Returns the problems (none when all is well).
   */
  async verify(timeoutMs = 15_000): Promise<{ problems: string[]; received: Record<string, number> }> {
    const until = Date.now() + timeoutMs;
    let got = this.received();
    while (Object.values(got).some((l) => l.length < this.sent.length) && Date.now() < until) {
      await sleep(50);
      got = this.received();
    }
    const problems = [...this.failures];
    for (const [who, list] of Object.entries(got)) {
      if (list.length !== this.sent.length)
        problems.push(`${who} received ${list.length} of ${this.sent.length} control messages`);
      const firstDiff = this.sent.findIndex((s, i) => list[i] !== s);
      if (firstDiff >= 0 && firstDiff < list.length)
        problems.push(
          `${who}: control message ${firstDiff} differs: sent ${this.sent[firstDiff]}, got ${list[firstDiff]}`,
        );
    }
    this.wsSubs.forEach((c, i) => {
      if (c.closeCode !== undefined)
        problems.push(`ws${i + 1} was closed with ${c.closeCode} during the fuzz`);
    });
    if (this.sseSub?.ended) problems.push('the SSE subscriber was disconnected during the fuzz');
    return {
      problems,
      received: Object.fromEntries(Object.entries(got).map(([k, v]) => [k, v.length])),
    };
  }

  close(): void {
    for (const c of this.wsSubs) c.close();
    this.sseSub?.close();
  }
}
