/**
 * Scenario 7, recovery: how long a reconnecting subscriber waits for the 1,000 messages it missed.
 * Per repetition, on a fresh channel:
 *
 * 1. a subscriber connects and receives one message (its last known position, `epoch:seq`), then
 *    goes away (closes its socket);
 * 2. 1,000 messages are published to the channel (pipelined HTTP, several in flight, all answered);
 * 3. it reconnects with `?token=…&since=<epoch>:<seq>` (docs/protocol.md, "Resume"), over a raw
 *    socket: the clock starts when the upgrade request is written on the open TCP connection (so TCP
 *    connect is outside, JWT check, upgrade, history read and replay inside) and stops when the
 *    1,000th replayed message has arrived; frames are only split while the clock runs and decoded
 *    after it stopped, to check them: a `subscribed` frame with `recovered: true`, then seq+1 …
 *    seq+1000 in order.
 *
 * The Redis target publishes through its first node and resumes on its second (the history is in
 * Redis, not in the node). One warm-up repetition is reported apart; the figure is the median of the
 * rest.
 */
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { payload } from '../gen/publisher.js';
import { publishPipelined } from '../lib/pipelined.js';
import type { Endpoint, RunningTarget } from '../targets.js';
import { mintToken, type RunContext } from './common.js';

export interface RecoveryParams {
  /** Messages missed and replayed. */
  messages: number;
  /** Measured repetitions (after one warm-up). */
  repeats: number;
  payloadBytes: number;
}

export interface RecoveryRepetition {
  /** Upgrade request written → 101 response head received, ms. */
  upgradeMs: number;
  /** → the `subscribed` frame. */
  subscribedMs: number;
  /** → the last replayed message: the figure. */
  replayMs: number;
  /** TCP connect, before the clock starts, ms. */
  tcpConnectMs: number;
}

export interface RecoveryResult {
  messages: number;
  /** Nodes of the target: where the messages were published and where the subscriber resumed. */
  publishedVia: string;
  resumedVia: string;
  warmup: RecoveryRepetition;
  repetitions: RecoveryRepetition[];
  medianMs: number;
  minMs: number;
  maxMs: number;
  medianUpgradeMs: number;
  medianSubscribedMs: number;
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const TOPIC = 't';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? 0 : s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/**
 * A raw WebSocket subscriber: handshake by hand, text frames collected as Buffers (not decoded),
 * `onFrame` told the count after each. Pings are not answered (the connections live a few ms).
 */
class RawSubscriber {
  readonly frames: Buffer[] = [];
  tcpConnectMs = 0;
  sentAt = 0;
  headAt = 0;
  /** When the first text frame arrived (the `subscribed` frame, on a resume). */
  firstFrameAt = 0;
  private readonly socket: Socket;
  private readonly key = randomBytes(16).toString('base64');
  private buf: Buffer = Buffer.alloc(0);
  private upgraded = false;
  private onFrame: (count: number) => void = () => {};
  private failure: ((e: Error) => void) | undefined;

  private constructor(
    e: Endpoint,
    private readonly path: string,
  ) {
    this.socket = connect({ host: e.host, port: e.port });
    this.socket.setNoDelay(true);
    this.socket.on('data', (d: Buffer) => this.onData(d));
    this.socket.on('error', (err) => this.failure?.(err));
    this.socket.on('close', () => this.failure?.(new Error('the server closed the connection')));
  }

  /** Opens the TCP connection (not timed), then writes the upgrade request (the clock's start). */
  static async open(e: Endpoint, path: string): Promise<RawSubscriber> {
    const s = new RawSubscriber(e, path);
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      s.socket.once('connect', resolve);
      s.socket.once('error', reject);
    });
    s.tcpConnectMs = performance.now() - t0;
    s.sentAt = performance.now();
    s.socket.write(
      `GET ${s.path} HTTP/1.1\r\nHost: ${e.host}:${e.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${s.key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    return s;
  }

  /** Resolves once upgraded and `count` text frames have arrived (bounded by `timeoutMs`). */
  waitFrames(count: number, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.failure = undefined;
        reject(new Error(`only ${this.frames.length} of ${count} frames within ${timeoutMs} ms`));
      }, timeoutMs);
      const check = (n: number) => {
        if (!this.upgraded || n < count) return;
        clearTimeout(timer);
        this.onFrame = () => {};
        this.failure = undefined;
        resolve(performance.now());
      };
      this.failure = (e) => {
        clearTimeout(timer);
        this.failure = undefined;
        reject(new Error(`${e.message} after ${this.frames.length} of ${count} frames`));
      };
      this.onFrame = check;
      check(this.frames.length);
    });
  }

  close(): void {
    this.failure = undefined;
    this.socket.destroy();
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    if (!this.upgraded) {
      const at = this.buf.indexOf('\r\n\r\n');
      if (at < 0) return;
      this.headAt = performance.now();
      const head = this.buf.toString('latin1', 0, at);
      if (!/^HTTP\/1\.1 101 /.test(head)) {
        this.failure?.(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
        this.socket.destroy();
        return;
      }
      const want = createHash('sha1')
        .update(this.key + GUID)
        .digest('base64');
      if (/\r\nsec-websocket-accept:\s*(\S+)/i.exec(head)?.[1] !== want) {
        this.failure?.(new Error('wrong Sec-WebSocket-Accept'));
        this.socket.destroy();
        return;
      }
      this.upgraded = true;
      this.buf = this.buf.subarray(at + 4);
      this.onFrame(0);
    }
    let i = 0;
    const b = this.buf;
    const before = this.frames.length;
    while (b.length - i >= 2) {
      const b0 = b[i] as number;
      const len7 = (b[i + 1] as number) & 0x7f;
      const hl = len7 === 126 ? 4 : len7 === 127 ? 10 : 2;
      if (b.length - i < hl) break;
      const len =
        len7 === 126 ? b.readUInt16BE(i + 2) : len7 === 127 ? Number(b.readBigUInt64BE(i + 2)) : len7;
      if (b.length - i < hl + len) break;
      // Text frames (unfragmented: Herald sends one frame per message); control frames skipped.
      if ((b0 & 0x0f) === 1) this.frames.push(b.subarray(i + hl, i + hl + len));
      i += hl + len;
    }
    this.buf = b.subarray(i);
    if (this.frames.length !== before) {
      if (before === 0) this.firstFrameAt = performance.now();
      this.onFrame(this.frames.length);
    }
  }
}

interface Framed {
  kind?: string;
  seq?: number;
  epoch?: string;
  data?: { seq?: number; epoch?: string; recovered?: boolean };
}

async function repetition(
  p: RecoveryParams,
  channel: string,
  pubAt: Endpoint,
  subAt: Endpoint,
): Promise<RecoveryRepetition> {
  const token = await mintToken(subAt.url, channel, TOPIC);
  const path = `/v1/realtime/connect?token=${token}`;
  // 1. Subscribed, receives one message: its last known position. Then it goes away.
  const first = await RawSubscriber.open(subAt, path);
  let position: { epoch: string; seq: number };
  try {
    await first.waitFrames(0, 10_000);
    const res = await fetch(
      `${pubAt.url}/v1/realtime/publish?channel=${encodeURIComponent(channel)}&topic=${TOPIC}`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: payload(Date.now(), p.payloadBytes),
        signal: AbortSignal.timeout(10_000),
      },
    );
    const ack = (await res.json()) as { epoch?: string; seq?: number };
    if (res.status !== 200 || typeof ack.epoch !== 'string' || typeof ack.seq !== 'number')
      throw new Error(`publish of the first message answered ${res.status}`);
    await first.waitFrames(1, 10_000);
    const m = JSON.parse((first.frames[0] as Buffer).toString()) as Framed;
    if (m.epoch !== ack.epoch || m.seq !== ack.seq)
      throw new Error(`the subscriber got ${m.epoch}:${m.seq}, the publish answered ${ack.epoch}:${ack.seq}`);
    position = { epoch: ack.epoch, seq: ack.seq };
  } finally {
    first.close();
  }
  // 2. Missed while away.
  const pub = await publishPipelined({
    host: pubAt.host,
    port: pubAt.port,
    channel,
    topic: TOPIC,
    count: p.messages,
    connections: 1,
    window: 16,
    body: () => payload(Date.now(), p.payloadBytes),
    timeoutMs: 30_000,
  });
  if (pub.failed > 0) throw new Error(`${pub.failed} publishes failed: ${JSON.stringify(pub.statuses)}`);
  // 3. Reconnect and resume.
  const s = await RawSubscriber.open(subAt, `${path}&since=${position.epoch}:${position.seq}`);
  let lastAt: number;
  try {
    lastAt = await s.waitFrames(p.messages + 1, 10_000);
  } finally {
    s.close();
  }
  // Checked after the clock stopped.
  const frames = s.frames.map((f) => JSON.parse(f.toString()) as Framed);
  const sub = frames[0];
  if (sub?.kind !== 'subscribed' || sub.data?.recovered !== true || sub.data.seq !== position.seq)
    throw new Error(`expected a subscribed frame with recovered: true first, got ${JSON.stringify(sub)}`);
  for (let i = 1; i <= p.messages; i++) {
    const f = frames[i];
    if (f?.kind !== 'data' || f.seq !== position.seq + i || f.epoch !== position.epoch)
      throw new Error(
        `replayed message ${i}: expected seq ${position.seq + i} in epoch ${position.epoch}, got ${JSON.stringify(f).slice(0, 200)}`,
      );
  }
  return {
    upgradeMs: s.headAt - s.sentAt,
    subscribedMs: s.firstFrameAt - s.sentAt,
    replayMs: lastAt - s.sentAt,
    tcpConnectMs: s.tcpConnectMs,
  };
}

export async function recovery(
  ctx: RunContext,
  t: RunningTarget,
  p: RecoveryParams,
): Promise<RecoveryResult> {
  const pubAt = t.endpoints[0];
  const subAt = t.endpoints[1] ?? t.endpoints[0];
  if (pubAt === undefined || subAt === undefined) throw new Error('target has no endpoint');
  const reps: RecoveryRepetition[] = [];
  let warmup: RecoveryRepetition | undefined;
  for (let i = 0; i <= p.repeats; i++) {
    ctx.progress.status(i === 0 ? 'warm-up' : `repetition ${i} of ${p.repeats}`);
    const r = await repetition(p, `bench-recovery-${i}`, pubAt, subAt);
    if (i === 0) warmup = r;
    else reps.push(r);
  }
  const ms = reps.map((r) => r.replayMs);
  const nodeOf = (e: Endpoint) => `${e.host}:${e.port}`;
  return {
    messages: p.messages,
    publishedVia: nodeOf(pubAt),
    resumedVia: nodeOf(subAt),
    warmup: warmup as RecoveryRepetition,
    repetitions: reps,
    medianMs: median(ms),
    minMs: Math.min(...ms),
    maxMs: Math.max(...ms),
    medianUpgradeMs: median(reps.map((r) => r.upgradeMs)),
    medianSubscribedMs: median(reps.map((r) => r.subscribedMs)),
  };
}
