/**
 * Fuzz of the WebSocket endpoint over raw sockets (hand-made frames, so they can be invalid):
 * junk and JSON-ish client frames, sub/unsub with junk fields, ids and tokens, fragmented
 * messages with control frames between the fragments, binary frames, invalid UTF-8, oversized
 * frames, unmasked frames, reserved opcodes and RSV bits, continuations without a start, bad close
 * frames, a frame flood, garbage handshakes, and a storm of connects and disconnects (many of them
 * abrupt). Each input class has the close code(s) it must end with (or: the connection stays
 * usable); every code must be one docs/protocol.md documents. Well-behaved subscribers stay
 * connected throughout and get every control message published meanwhile, in order; afterwards
 * the connection count and the heap (after a forced GC) are back where they were.
 *
 * Quick in `npm test` (fixed seed); `npm run fuzz -- --duration <s>` runs it by duration.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverErrors } from '../server/helpers.js';
import {
  answerProblems,
  ControlFeed,
  documentedCloseCodes,
  documentedStatuses,
  exchange,
  FUZZ_SECONDS,
  type FuzzHerald,
  generate,
  type HealthCounts,
  healthCounts,
  LONG,
  printable,
  rounds,
  seedFor,
  settleTo,
  sleep,
  startFuzzHerald,
  Tally,
  timeoutMs,
} from './fuzz-support.js';

const SEED = seedFor(20_261_129);
const tally = new Tally('fuzz-ws', SEED, 10);
const DOCUMENTED = documentedCloseCodes();
const STATUSES = new Set([...documentedStatuses()].filter((s) => s !== 503));
/** --max-frame for the fuzzed process (small, so oversized frames are cheap to send). */
const MAX_FRAME = 4096;

let h: FuzzHerald;
let feed: ControlFeed;
let baseline: HealthCounts;
let heapBefore = 0;
/** Valid subscription tokens of a fuzz channel (for the bad connections and for `sub` frames). */
const tokens: string[] = [];

async function mint(channel: string, names: string[]): Promise<string> {
  const res = await fetch(`${h.url}/v1/realtime/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(names.map((name) => ({ channel, name }))),
  });
  return ((await res.json()) as { jwt: string }).jwt;
}

beforeAll(async () => {
  h = await startFuzzHerald({ args: ['--max-frame', String(MAX_FRAME)] });
  feed = await ControlFeed.open(h, { ws: 3, sse: true });
  tokens.push(await mint('ws-fuzz', ['t']), await mint('ws-fuzz-2', ['a', 'b']));
  tally.onEvery = () => feed.publishNext();
  // Warm up: one clean connection and one refused frame, then measure.
  const c = await RawWs.open(h.port, tokens[0] as string);
  if (c instanceof RawWs) {
    c.send(frame({ opcode: 0x2, payload: Buffer.from('x') }));
    await c.closed();
  }
  await feed.publishNext();
  baseline = await settleTo(h.url, await healthCounts(h.url));
  heapBefore = await h.heapAfterGc();
  tally.extra.expectedCloseCodes = Object.fromEntries(Object.entries(EXPECTED).map(([k, v]) => [k, v]));
}, 60_000);

afterAll(async () => {
  feed?.close();
  await tally.report();
  await h?.stop();
});

// ---------------------------------------------------------------------------------------------
// Frames by hand (RFC 6455 §5.2)

interface FrameSpec {
  fin?: boolean;
  /** RSV1..3 as bits 4..6 of the first byte (0–7). */
  rsv?: number;
  opcode: number;
  payload: Buffer;
  /** Client frames must be masked; false sends it bare. */
  mask?: boolean;
  /** Declare this 64-bit length instead of the real one. */
  declaredLength?: bigint;
}

function frame(f: FrameSpec): Buffer {
  const mask = f.mask ?? true;
  const len = f.payload.length;
  const head: number[] = [((f.fin ?? true) ? 0x80 : 0) | ((f.rsv ?? 0) << 4) | f.opcode];
  const m = mask ? 0x80 : 0;
  let ext = Buffer.alloc(0);
  if (f.declaredLength !== undefined) {
    head.push(m | 127);
    ext = Buffer.alloc(8);
    ext.writeBigUInt64BE(f.declaredLength);
  } else if (len < 126) head.push(m | len);
  else if (len < 65536) {
    head.push(m | 126);
    ext = Buffer.alloc(2);
    ext.writeUInt16BE(len);
  } else {
    head.push(m | 127);
    ext = Buffer.alloc(8);
    ext.writeBigUInt64BE(BigInt(len));
  }
  if (!mask) return Buffer.concat([Buffer.from(head), ext, f.payload]);
  const key = randomBytes(4);
  const body = Buffer.from(f.payload);
  for (let i = 0; i < body.length; i++) body[i] = (body[i] as number) ^ (key[i % 4] as number);
  return Buffer.concat([Buffer.from(head), ext, key, body]);
}

const text = (s: string | Buffer, more: Partial<FrameSpec> = {}) =>
  frame({ opcode: 0x1, payload: Buffer.from(s), ...more });
const closeFrame = (code: number | undefined, reason: Buffer = Buffer.alloc(0)) => {
  if (code === undefined) return frame({ opcode: 0x8, payload: reason });
  const p = Buffer.alloc(2);
  p.writeUInt16BE(code);
  return frame({ opcode: 0x8, payload: Buffer.concat([p, reason]) });
};

/** A WebSocket client on a raw socket: sends any bytes, parses the server's frames. */
class RawWs {
  readonly texts: string[] = [];
  pongs = 0;
  /** The code of the server's close frame (1005 for none given), or 1006 when the TCP connection ended without one. */
  closeCode: number | undefined;
  closeReason = '';
  private buf = Buffer.alloc(0);
  private readonly waiters = new Set<() => void>();

  private constructor(
    private readonly socket: net.Socket,
    rest: Buffer,
  ) {
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('close', () => {
      this.closeCode ??= 1006;
      this.wake();
    });
    socket.on('error', () => {});
    if (rest.length) this.onData(rest);
  }

  /** Upgrades; answers a RawWs, or the refusal (status and body) when the server did not switch. */
  static open(
    port: number,
    token: string,
    request?: string,
  ): Promise<RawWs | { status: number; headers: string; body: string }> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      const req =
        request ??
        `GET /v1/realtime/connect?token=${encodeURIComponent(token)} HTTP/1.1\r\nHost: x\r\n` +
          'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n' +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n\r\n`;
      let got = Buffer.alloc(0);
      const onData = (d: Buffer) => {
        got = Buffer.concat([got, d]);
        const end = got.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = got.subarray(0, end).toString('latin1');
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
        if (status === 101) {
          socket.off('data', onData);
          socket.off('close', onClose);
          resolve(new RawWs(socket, got.subarray(end + 4)));
          return;
        }
        const len = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (got.length >= end + 4 + len) {
          socket.destroy();
          resolve({ status, headers: head, body: got.subarray(end + 4, end + 4 + len).toString() });
        }
      };
      const onClose = () => resolve({ status: 0, headers: '', body: got.toString('latin1') });
      socket.on('data', onData);
      socket.on('close', onClose);
      socket.on('error', () => {});
      socket.setTimeout(10_000, () => {
        socket.destroy();
        reject(new Error(`no handshake answer within 10 s: ${JSON.stringify(got.toString('latin1'))}`));
      });
      socket.once('connect', () => {
        socket.setTimeout(0);
        socket.write(req, 'latin1');
      });
    });
  }

  send(bytes: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** Resolves with the close code once the server closed (or `timeoutMs` passed: undefined). */
  async closed(timeoutMs = 8_000): Promise<number | undefined> {
    await this.until(() => this.closeCode !== undefined, timeoutMs);
    return this.closeCode;
  }

  /** Waits until `pred` holds; false after `timeoutMs`. */
  until(pred: () => boolean, timeoutMs = 8_000): Promise<boolean> {
    if (pred()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (!pred()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        resolve(false);
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  /** A clean close: our close frame, then the server's answer, then the TCP close. */
  async closeCleanly(code = 1000): Promise<void> {
    this.send(closeFrame(code));
    await this.closed(5_000);
    this.destroy();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  private onData(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      if (this.buf.length < 2) break;
      const b1 = this.buf[1] as number;
      let len = b1 & 0x7f;
      let off = 2;
      if (len === 126) {
        if (this.buf.length < 4) break;
        len = this.buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) break;
        len = Number(this.buf.readBigUInt64BE(2));
        off = 10;
      }
      if (this.buf.length < off + len) break;
      const opcode = (this.buf[0] as number) & 0x0f;
      const payload = this.buf.subarray(off, off + len);
      this.buf = this.buf.subarray(off + len);
      if (opcode === 0x1) this.texts.push(payload.toString('utf8'));
      else if (opcode === 0xa) this.pongs++;
      else if (opcode === 0x8 && this.closeCode === undefined) {
        this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        this.closeReason = payload.subarray(2).toString('utf8');
        // Answer the close handshake and end, as a client does.
        this.send(closeFrame(payload.length >= 2 ? this.closeCode : undefined));
        this.socket.end();
      }
    }
    this.wake();
  }
}

// ---------------------------------------------------------------------------------------------
// Input classes and what each must end with

/**
 * Input class → the close code(s) it must end with ('open': the connection stays and still
 * answers). From docs/protocol.md ("Close codes") and the `ws` library's handling of protocol
 * errors (RFC 6455 §7.4.1: 1002 protocol error, 1007 invalid UTF-8, 1009 too big).
 */
const EXPECTED: Record<string, number[] | 'open'> = {
  'junk-text': 'open',
  'random-json': 'open',
  'sub-unsub-junk': 'open',
  'fragmented-valid': 'open',
  ping: 'open',
  binary: [1003],
  'invalid-utf8': [1007],
  'invalid-utf8-fragmented': [1007],
  oversized: [1009],
  'oversized-declared': [1009],
  unmasked: [1002],
  'rsv-bits': [1002],
  'reserved-opcode': [1002],
  'continuation-without-start': [1002],
  'new-message-mid-fragment': [1002],
  'fragmented-control': [1002],
  'control-too-long': [1002],
  'close-bad-code': [1002],
  'close-one-byte': [1002],
  'close-invalid-utf8-reason': [1007],
  'close-valid': [1000, 3000, 4000, 4999, 1001, 1003],
  flood: [4029],
};

const JUNK_FIELDS = fc.dictionary(
  fc.string({ maxLength: 8 }).filter((k) => !['kind', 'data', 'id'].includes(k)),
  fc.jsonValue({ maxDepth: 2 }),
  { maxKeys: 4 },
);
const idArb = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(2 ** 53 + 1, -0, 1e308, 'x'.repeat(3000), '\u0000', '🙂'),
);

/** A client text frame of the "stays open" classes, and the id of the reply it must get (if any). */
interface OpenInput {
  frames: Buffer[];
  /** JSON text of the id the server must echo in a reply (sub/unsub that parse). */
  reply?: string;
  pings?: number;
}

/** Frames of the "stays open" classes stay within --max-frame (past it is the oversized class). */
const fits = (s: string) => Buffer.byteLength(s) <= MAX_FRAME;

const openArbs = (): Record<string, fc.Arbitrary<OpenInput>> => ({
  'junk-text': fc
    .oneof(
      fc.string({ unit: 'grapheme', maxLength: 200 }),
      fc.string({ unit: 'binary', maxLength: 100 }),
      fc.constantFrom('', ' ', '{', 'null', '[]', '"sub"'),
    )
    .filter(fits)
    .map((s) => ({ frames: [text(Buffer.from(s, 'utf8'))] })),
  'random-json': fc
    .json({ maxDepth: 3 })
    .filter(fits)
    .map((s) => ({ frames: [text(s)] })),
  'sub-unsub-junk': fc
    .oneof(
      // A sub that parses: a non-empty token string (garbage, truncated or valid), junk fields.
      fc
        .record({
          id: idArb,
          junk: JUNK_FIELDS,
          token: fc.oneof(fc.string({ minLength: 1, maxLength: 60 }), fc.constantFrom(...tokens)),
        })
        .map(({ id, junk, token }) => ({ kind: 'sub', data: token, id, ...junk })),
      fc
        .record({
          id: idArb,
          junk: JUNK_FIELDS,
          topics: fc.array(
            fc.record({
              channel: fc.string({ maxLength: 20 }),
              name: fc.string({ maxLength: 20 }),
              kind: fc.jsonValue({ maxDepth: 1 }),
            }),
            { maxLength: 4 },
          ),
        })
        .map(({ id, junk, topics }) => ({ kind: 'unsub', data: topics, id, ...junk })),
      // Shapes that do not parse: ignored, no reply.
      fc.record(
        {
          kind: fc.constantFrom('sub', 'unsub', 'SUB', 'subscribe', 'ping', ''),
          data: fc.jsonValue({ maxDepth: 2 }),
        },
        { requiredKeys: ['kind'] },
      ),
    )
    .map((v) => JSON.stringify(v))
    .filter(fits)
    .map((s) => {
      const o = JSON.parse(s) as { kind?: unknown; data?: unknown; id?: unknown };
      const parses =
        (o.kind === 'sub' && typeof o.data === 'string' && o.data !== '') ||
        (o.kind === 'unsub' &&
          Array.isArray(o.data) &&
          o.data.every(
            (t) =>
              typeof t === 'object' &&
              t !== null &&
              typeof t.channel === 'string' &&
              typeof t.name === 'string',
          ));
      const hasId = typeof o.id === 'string' || typeof o.id === 'number';
      return { frames: [text(s)], ...(parses ? { reply: hasId ? JSON.stringify(o.id) : '<none>' } : {}) };
    }),
  'fragmented-valid': fc
    .tuple(fc.integer({ min: 1, max: 5 }), fc.nat(), fc.array(fc.nat({ max: 3 }), { maxLength: 4 }))
    .map(([parts, seed, pingsAt]) => {
      const id = `frag-${seed}`;
      const msg = Buffer.from(JSON.stringify({ kind: 'unsub', data: [{ channel: 'é🙂', name: 'x' }], id }));
      const cuts = Array.from({ length: parts }, (_, i) => Math.floor((msg.length * (i + 1)) / (parts + 1)));
      const pieces: Buffer[] = [];
      let last = 0;
      for (const c of [...cuts, msg.length]) {
        pieces.push(msg.subarray(last, c));
        last = c;
      }
      const frames: Buffer[] = [];
      let pings = 0;
      pieces.forEach((p, i) => {
        frames.push(frame({ opcode: i === 0 ? 0x1 : 0x0, fin: i === pieces.length - 1, payload: p }));
        // Control frames may come between the fragments of a message (RFC 6455 §5.4).
        if (i < pieces.length - 1 && pingsAt.includes(i)) {
          frames.push(frame({ opcode: 0x9, payload: Buffer.from(`p${i}`) }));
          pings++;
        }
      });
      return { frames, reply: JSON.stringify(id), pings };
    }),
  ping: fc
    .uint8Array({ maxLength: 125 })
    .map((p) => ({ frames: [frame({ opcode: 0x9, payload: Buffer.from(p) })], pings: 1 })),
});

const invalidUtf8 = fc.constantFrom(
  Buffer.from([0xff]),
  Buffer.from([0xc0, 0xaf]),
  Buffer.from([0xed, 0xa0, 0x80]),
  Buffer.from([0xf4, 0x90, 0x80, 0x80]),
  Buffer.from([0xe2, 0x82]),
  Buffer.from('{"kind":"sub","data":"\xff"}', 'latin1'),
);

/** Bad inputs: the frames to send once connected. */
const badArbs: Record<string, fc.Arbitrary<Buffer[]>> = {
  binary: fc.uint8Array({ maxLength: 300 }).map((p) => [frame({ opcode: 0x2, payload: Buffer.from(p) })]),
  'invalid-utf8': fc
    .tuple(fc.string({ maxLength: 20 }), invalidUtf8)
    .map(([a, bad]) => [text(Buffer.concat([Buffer.from(a), bad]))]),
  'invalid-utf8-fragmented': fc
    .tuple(fc.string({ maxLength: 20 }), invalidUtf8)
    .map(([a, bad]) => [
      frame({ opcode: 0x1, fin: false, payload: Buffer.from(a) }),
      frame({ opcode: 0x0, payload: bad }),
    ]),
  oversized: fc.integer({ min: MAX_FRAME + 1, max: MAX_FRAME * 4 }).map((n) => [text(Buffer.alloc(n, 0x61))]),
  'oversized-declared': fc
    .constantFrom(2n ** 63n, 2n ** 53n, BigInt(MAX_FRAME + 1), 2n ** 64n - 1n)
    .map((n) => [frame({ opcode: 0x1, payload: Buffer.alloc(0), declaredLength: n })]),
  unmasked: fc.string({ maxLength: 30 }).map((s) => [text(s, { mask: false })]),
  'rsv-bits': fc
    .tuple(fc.integer({ min: 1, max: 7 }), fc.constantFrom(0x1, 0x2, 0x9))
    .map(([rsv, opcode]) => [frame({ opcode, rsv, payload: Buffer.from('{}') })]),
  'reserved-opcode': fc
    .constantFrom(3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf)
    .map((opcode) => [frame({ opcode, payload: Buffer.from('x') })]),
  'continuation-without-start': fc
    .boolean()
    .map((fin) => [frame({ opcode: 0x0, fin, payload: Buffer.from('{}') })]),
  'new-message-mid-fragment': fc
    .constantFrom(0x1, 0x2)
    .map((op) => [
      frame({ opcode: 0x1, fin: false, payload: Buffer.from('{"ki') }),
      frame({ opcode: op, payload: Buffer.from('{}') }),
    ]),
  'fragmented-control': fc
    .constantFrom(0x8, 0x9, 0xa)
    .map((opcode) => [frame({ opcode, fin: false, payload: Buffer.from('ab') })]),
  'control-too-long': fc
    .tuple(fc.constantFrom(0x8, 0x9, 0xa), fc.integer({ min: 126, max: 400 }))
    .map(([opcode, n]) => [frame({ opcode, payload: Buffer.alloc(n, 0x30) })]),
  'close-bad-code': fc
    .constantFrom(0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535)
    .map((c) => [closeFrame(c)]),
  'close-one-byte': fc.constant([frame({ opcode: 0x8, payload: Buffer.from([0x03]) })]),
  'close-invalid-utf8-reason': invalidUtf8.map((bad) => [closeFrame(1000, bad)]),
  'close-valid': fc
    .constantFrom(1000, 3000, 4000, 4999, 1001, 1003)
    .map((c) => [closeFrame(c, Buffer.from('bye'))]),
};

// ---------------------------------------------------------------------------------------------
// Running the classes

function crashCheck(where: string): void {
  if (!h.alive()) {
    tally.crashes++;
    throw new Error(`Herald exited during "${where}" (seed ${SEED}):\n${h.output().slice(-3000)}`);
  }
}

async function connect(): Promise<RawWs> {
  const c = await RawWs.open(h.port, tokens[0] as string);
  if (!(c instanceof RawWs)) throw new Error(`upgrade refused: ${c.status} ${c.body}`);
  return c;
}

/** Bad inputs: one connection each; it must be closed with the class's code. */
async function fuzzBad(cls: string, arb: fc.Arbitrary<Buffer[]>, seed: number, runs: number): Promise<void> {
  const want = EXPECTED[cls] as number[];
  const pending: Promise<void>[] = [];
  await generate(arb, seed, runs, async (frames) => {
    crashCheck(cls);
    await tally.try(cls);
    const c = await connect();
    for (const f of frames) c.send(f);
    const p = c.closed().then((code) => {
      c.destroy();
      tally.outcome(cls, code === undefined ? 'still-open' : `close ${code}`);
      const show = printable(frames);
      if (code === undefined)
        tally.violation(cls, `not closed within 8 s (expected ${want.join('/')})`, show);
      else if (!want.includes(code))
        tally.violation(cls, `closed with ${code} (${c.closeReason}), expected ${want.join('/')}`, show);
      else if (!DOCUMENTED.has(code) && !(cls === 'close-valid'))
        tally.violation(cls, `close code ${code} is not documented`, show);
      if (cls === 'close-valid' && code !== undefined && code !== readCode(frames[0] as Buffer))
        tally.violation(
          cls,
          `the server answered close ${code} to a close ${readCode(frames[0] as Buffer)}`,
          show,
        );
    });
    if (!(await Promise.race([p.then(() => true), sleep(200).then(() => false)]))) pending.push(p);
  });
  await Promise.all(pending);
  crashCheck(cls);
}

/** The close code a masked close frame of ours carries. */
function readCode(f: Buffer): number {
  const key = f.subarray(2, 6);
  return (((f[6] as number) ^ (key[0] as number)) << 8) | ((f[7] as number) ^ (key[1] as number));
}

/** Inputs that must leave the connection open: in batches on one connection, then a probe. */
async function fuzzOpen(
  cls: string,
  arb: fc.Arbitrary<OpenInput>,
  seed: number,
  runs: number,
): Promise<void> {
  const batch = 20; // well under --max-client-frames (100/s, bursts of 200)
  let c: RawWs | undefined;
  let inBatch: OpenInput[] = [];
  let probes = 0;
  const finishBatch = async () => {
    if (c === undefined) return;
    const conn = c;
    const id = `probe-${++probes}`;
    conn.send(text(JSON.stringify({ kind: 'unsub', data: [], id })));
    const replies = () =>
      conn.texts.map((t) => {
        try {
          return JSON.parse(t) as { kind?: string; id?: unknown; data?: unknown };
        } catch {
          return {};
        }
      });
    const wantReplies = inBatch.filter((i) => i.reply !== undefined).length + 1;
    const wantPongs = inBatch.reduce((n, i) => n + (i.pings ?? 0), 0);
    const ok = await conn.until(
      () =>
        replies().filter((r) => r.kind === 'sub' || r.kind === 'unsub').length >= wantReplies &&
        conn.pongs >= wantPongs,
      8_000,
    );
    const show = printable(inBatch.flatMap((i) => i.frames));
    if (conn.closeCode !== undefined) {
      tally.outcome(cls, `close ${conn.closeCode}`);
      tally.violation(cls, `closed with ${conn.closeCode} (${conn.closeReason}); it should stay open`, show);
    } else if (!ok) {
      tally.violation(
        cls,
        `missing replies or pongs: ${replies().length}/${wantReplies} replies, ${conn.pongs}/${wantPongs} pongs`,
        show,
      );
    } else {
      // Every reply's id matches an input's (the multiset of ids), and the probe answered ok.
      const got = replies()
        .filter((r) => r.kind === 'sub' || r.kind === 'unsub')
        .map((r) => ('id' in r ? JSON.stringify(r.id) : '<none>'))
        .sort();
      const sent = [
        ...inBatch.filter((i) => i.reply !== undefined).map((i) => i.reply as string),
        JSON.stringify(id),
      ].sort();
      if (JSON.stringify(got) !== JSON.stringify(sent))
        tally.violation(cls, `reply ids ${got.join(',')} ≠ sent ${sent.join(',')}`, show);
      tally.outcome(cls, 'open');
    }
    await conn.closeCleanly();
    c = undefined;
    inBatch = [];
  };
  await generate(arb, seed, runs, async (input) => {
    crashCheck(cls);
    await tally.try(cls);
    c ??= await connect();
    for (const f of input.frames) c.send(f);
    inBatch.push(input);
    if (inBatch.length >= batch) await finishBatch();
  });
  await finishBatch();
  crashCheck(cls);
}

/**
 * Raw handshake requests: a valid one with up to three of its parts replaced by garbage (key,
 * version, method, upgrade value, token, since, subprotocols, extensions, path).
 */
function handshakeArb(): fc.Arbitrary<string> {
  type Parts = Record<'method' | 'path' | 'token' | 'upgrade' | 'connection', string> &
    Record<'since' | 'version' | 'key' | 'protocol' | 'extensions', string | undefined>;
  const valid = (): Parts => ({
    method: 'GET',
    path: '/v1/realtime/connect',
    token: tokens[0] as string,
    upgrade: 'websocket',
    connection: 'Upgrade',
    since: undefined,
    version: '13',
    key: randomBytes(16).toString('base64'),
    protocol: undefined,
    extensions: undefined,
  });
  const change = fc.oneof(
    fc.constantFrom('POST', 'PUT', 'HEAD', 'get').map((v) => ['method', v] as const),
    fc
      .constantFrom('/v1/realtime/connect/', '/v1/realtime/sse', '/', '/v1/realtime/CONNECT')
      .map((v) => ['path', v] as const),
    fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('', ...tokens)).map((v) => ['token', v] as const),
    fc
      .constantFrom('WebSocket', 'h2c', '', 'websocket, h2c', 'web socket')
      .map((v) => ['upgrade', v] as const),
    fc.constantFrom('upgrade, keep-alive', 'keep-alive', 'close', '').map((v) => ['connection', v] as const),
    fc
      .oneof(
        fc.constantFrom('now', 'oldest', 'x:1', '{', '{"ws-fuzz":"now"}', ''),
        fc.string({ maxLength: 10 }),
      )
      .map((v) => ['since', v] as const),
    fc.constantFrom('8', '12', '', 'x', '13, 8', '013', undefined).map((v) => ['version', v] as const),
    fc
      .oneof(
        fc.string({ maxLength: 30 }),
        fc.constantFrom('', 'AAAAAAAAAAAAAAAAAAAAAA==', 'dGhlIHNhbXBsZSBub25jZQ', undefined),
      )
      .map((v) => ['key', v] as const),
    fc.constantFrom('chat', 'a,,b', ' ', 'a b', 'x, x').map((v) => ['protocol', v] as const),
    fc
      .constantFrom('permessage-deflate', 'x; y=', ';;', 'permessage-deflate; server_max_window_bits=99')
      .map((v) => ['extensions', v] as const),
  );
  return fc.array(change, { maxLength: 3 }).map((changes) => {
    const r = valid();
    for (const [k, v] of changes) (r as Record<string, string | undefined>)[k] = v;
    const q = new URLSearchParams({ token: r.token, ...(r.since === undefined ? {} : { since: r.since }) });
    const lines = [
      `${r.method} ${r.path}?${q} HTTP/1.1`,
      'Host: x',
      `Connection: ${r.connection}`,
      `Upgrade: ${r.upgrade}`,
    ];
    if (r.version !== undefined) lines.push(`Sec-WebSocket-Version: ${r.version}`);
    if (r.key !== undefined) lines.push(`Sec-WebSocket-Key: ${r.key.replace(/[\r\n]/g, '')}`);
    if (r.protocol !== undefined) lines.push(`Sec-WebSocket-Protocol: ${r.protocol}`);
    if (r.extensions !== undefined) lines.push(`Sec-WebSocket-Extensions: ${r.extensions}`);
    return `${lines.join('\r\n')}\r\n\r\n`;
  });
}

async function fuzzHandshakes(seed: number, runs: number): Promise<void> {
  const cls = 'handshake';
  const pending: Promise<void>[] = [];
  await generate(handshakeArb(), seed, runs, async (req) => {
    crashCheck(cls);
    await tally.try(cls);
    const method = req.slice(0, req.indexOf(' '));
    const path = new URL(req.split(' ')[1] as string, 'http://x').pathname;
    const p = (async () => {
      if (method !== 'GET') {
        // Not a handshake Node hands to the upgrade listener: an ordinary exchange.
        const ex = await exchange(h.port, [Buffer.from(req, 'latin1')], { method, answerMs: 2_000 });
        for (const r of ex.responses) {
          tally.outcome(cls, r.status);
          for (const problem of answerProblems(STATUSES, method, path, r))
            tally.violation(cls, problem, JSON.stringify(req));
        }
        if (ex.responses.length === 0) tally.outcome(cls, 'closed-without-answer');
        return;
      }
      const c = await RawWs.open(h.port, '', req);
      if (c instanceof RawWs) {
        tally.outcome(cls, 101);
        await c.closeCleanly();
        return;
      }
      tally.outcome(cls, c.status || 'closed-without-answer');
      if (c.status === 0) return;
      const r = {
        status: c.status,
        headers: Object.fromEntries(
          c.headers
            .split('\r\n')
            .slice(1)
            .map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
        ),
        body: Buffer.from(c.body),
        stream: c.status === 200 && /text\/event-stream/.test(c.headers),
      };
      for (const problem of answerProblems(STATUSES, method, path, r))
        tally.violation(
          cls,
          problem,
          `${JSON.stringify(req)}\n    answer: ${c.status} ${c.body.slice(0, 200)}`,
        );
    })();
    if (!(await Promise.race([p.then(() => true), sleep(200).then(() => false)]))) pending.push(p);
  });
  await Promise.all(pending);
  crashCheck(cls);
}

describe('herald dev under WebSocket fuzz', () => {
  it(
    'closes every bad connection with its documented code, keeps the others usable, answers garbage handshakes in JSON',
    async () => {
      const n = await rounds(SEED, 24, 0.75, async (seed, runs) => {
        let i = 0;
        for (const [cls, arb] of Object.entries(openArbs())) await fuzzOpen(cls, arb, seed + i++, runs * 5);
        for (const [cls, arb] of Object.entries(badArbs)) await fuzzBad(cls, arb, seed + i++, runs);
        await fuzzHandshakes(seed + i++, runs * 8);
      });
      tally.extra.rounds = n;
      expect(tally.violations).toEqual([]);
    },
    timeoutMs(120_000),
  );

  it(
    'closes a client that floods frames with 4029 and keeps serving the others',
    async () => {
      const floods = LONG ? 20 : 3;
      for (let i = 0; i < floods; i++) {
        await tally.try('flood');
        const c = await connect();
        // Thousands of frames at once, far past --max-client-frames (100/s in bursts of 200).
        const burst = Buffer.concat(
          Array.from({ length: 3000 }, (_, j) => text(`{"kind":"noise","n":${j}}`)),
        );
        c.send(burst);
        const code = await c.closed(10_000);
        c.destroy();
        tally.outcome('flood', code === undefined ? 'still-open' : `close ${code}`);
        if (code !== 4029)
          tally.violation(
            'flood',
            `closed with ${code} (${c.closeReason}), expected 4029`,
            '3000 text frames at once',
          );
        await feed.publishNext();
      }
      crashCheck('flood');
      expect(tally.violations.filter((v) => v.class === 'flood')).toEqual([]);
    },
    timeoutMs(60_000),
  );

  it(
    'survives a storm of connects and disconnects, half of them abrupt, and returns to its connection count',
    async () => {
      // 2,000 connections; in the long variant 2,000 more per minute of duration.
      const total = 2000 * Math.max(1, Math.floor(FUZZ_SECONDS / 60));
      const kinds = [
        'destroy-mid-handshake',
        'destroy-after-request',
        'destroy-after-open',
        'close-after-open',
        'tcp-only',
      ] as const;
      let next = 0;
      const counts: Record<string, number> = {};
      const one = async (kind: (typeof kinds)[number]) => {
        counts[kind] = (counts[kind] ?? 0) + 1;
        if (kind === 'close-after-open' || kind === 'destroy-after-open') {
          const c = await connect();
          if (kind === 'destroy-after-open') c.destroy();
          else await c.closeCleanly();
          return;
        }
        await new Promise<void>((resolve) => {
          const s = net.connect(h.port, '127.0.0.1');
          s.on('error', () => resolve());
          s.on('close', () => resolve());
          s.once('connect', () => {
            const req =
              `GET /v1/realtime/connect?token=${encodeURIComponent(tokens[0] as string)} HTTP/1.1\r\nHost: x\r\n` +
              `Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n\r\n`;
            if (kind === 'tcp-only') s.destroy();
            else if (kind === 'destroy-mid-handshake') {
              s.write(req.slice(0, 20 + (next % 60)));
              setImmediate(() => s.destroy());
            } else {
              s.write(req);
              setImmediate(() => s.destroy());
            }
          });
        });
      };
      const worker = async () => {
        while (next < total) {
          const i = next++;
          await tally.try('storm');
          await one(kinds[i % kinds.length] as (typeof kinds)[number]);
        }
      };
      await Promise.all(Array.from({ length: 32 }, worker));
      tally.extra.storm = counts;
      crashCheck('storm');
      const after = await settleTo(h.url, baseline);
      expect({ connections: after.connections, subscriptions: after.subscriptions }).toEqual({
        connections: baseline.connections,
        subscriptions: baseline.subscriptions,
      });
    },
    timeoutMs(120_000),
  );
});

describe('after the WebSocket fuzz', () => {
  it(
    'kept every well-behaved subscriber connected with every control message in order, and its heap',
    async () => {
      await feed.publishNext();
      const control = await feed.verify();
      tally.control.sent = feed.count;
      tally.control.received = control.received;
      expect(control.problems).toEqual([]);
      await sleep(3_000); // the fuzz's history expires (2 s), then compare
      const after = await settleTo(h.url, baseline);
      expect(after).toEqual(baseline);
      const heapAfter = await h.heapAfterGc();
      tally.extra.heap = { beforeMiB: mib(heapBefore), afterMiB: mib(heapAfter) };
      expect(heapAfter).toBeLessThan(heapBefore + 16 * 1024 * 1024);
      expect(h.alive()).toBe(true);
      const errors = serverErrors(h.output());
      tally.extra.errorLogLines = errors.length;
      expect(errors).toEqual([]);
      expect(tally.crashes).toBe(0);
    },
    timeoutMs(60_000),
  );
});

const mib = (b: number) => Math.round((b / 1024 / 1024) * 10) / 10;
