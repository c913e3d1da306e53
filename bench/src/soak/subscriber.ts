/**
 * A soak subscriber: a raw-TCP WebSocket client (the handshake of lib/ws-client.ts, as the lean socket) that,
 * unlike the lean socket, decodes every message and audits its channel's order (docs/protocol.md,
 * "Frames" and "Resume"): `seq` counts every message of a channel from 1, consecutive, and this
 * subscriber holds the channel's only topic, so it must see every seq once, in order.
 *
 * It always connects with `?since=` — `now` the first time, `<epoch>:<last seq>` after that — so
 * each connection starts with a `subscribed` frame giving the position the stream continues from.
 * A gap adds to `lost` and remembers the missing seqs; a missing seq that turns up later moves
 * from `lost` to `reordered`; a seq seen before is `duplicated`.
 */
import { connect, type Socket } from 'node:net';
import {
  clientFrame,
  MAX_HEAD_BYTES,
  Op,
  upgradeKey,
  upgradeProblem,
  upgradeRequest,
} from '../lib/ws-client.js';

/** Missing seqs remembered per subscriber (to tell a late message from a duplicate). */
const MAX_GAPS = 10_000;
/** Examples of anomalies kept per process, for the report. */
const MAX_EXAMPLES = 20;

/** Where a subscriber is in its life. */
export const State = {
  /** TCP connect and upgrade sent, waiting for the 101 and the `subscribed` frame. */
  Subscribing: 0,
  Live: 1,
  /** We sent a close frame (clean leave) and wait for the server's. */
  Closing: 2,
  /** No connection. */
  Away: 3,
} as const;
export type State = (typeof State)[keyof typeof State];

/** Counters over every subscriber of the process. */
export const audit = {
  deliveries: 0,
  /** Deliveries published before their connection was live (replayed or held during a resume). */
  replayed: 0,
  lost: 0,
  duplicated: 0,
  reordered: 0,
  epochChanges: 0,
  wrongChannel: 0,
  /** Frames that should not come (a message before `subscribed`, an unknown kind, a bad position). */
  unexpectedFrames: 0,
  recoveredFalse: 0,
  /** Connections the server (or the network) ended without being asked. */
  unexpectedCloses: 0,
  closes: new Map<string, number>(),
  examples: [] as string[],
};

export function example(text: string): void {
  if (audit.examples.length < MAX_EXAMPLES) audit.examples.push(text);
}

function count(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** Called with each live delivery's publish-to-receive latency, in microseconds. */
let latencySink: (micros: number) => void = () => {};
export function onLatency(fn: (micros: number) => void): void {
  latencySink = fn;
}

const sharedReadBuffer = Buffer.allocUnsafe(256 * 1024);
const nowMs = (): number => performance.timeOrigin + performance.now();

const CLOSE_NORMAL = clientFrame(Op.Close, Buffer.from([0x03, 0xe8]));

interface Message {
  kind?: string;
  channel?: string;
  epoch?: string;
  seq?: number;
  data?: { t?: number; epoch?: string; seq?: number; recovered?: boolean };
}

export interface Target {
  host: string;
  port: number;
  /** `/v1/realtime/connect?token=…` (the subscriber adds `&since=`). */
  path: string;
  localAddress?: string;
}

export class SoakSubscriber {
  state: State = State.Away;
  /** The channel's epoch and the last seq seen; `undefined` until the first `subscribed` frame. */
  epoch: string | undefined;
  last = 0;
  /** Times this subscriber resumed. */
  resumes = 0;
  private gaps: number[] = [];
  private socket: Socket | undefined;
  private key = '';
  private upgraded = false;
  private pending: Buffer | undefined;
  private fragments: Buffer[] = [];
  /** When the current connection went live: earlier messages are replays, not live latency. */
  private liveSince = 0;
  private settle: { resolve: () => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | undefined;
  private leaving: (() => void) | undefined;

  /** Set by the owner: the connection ended without being asked (after it was live). */
  onDrop: (s: SoakSubscriber) => void = () => {};

  constructor(
    readonly id: number,
    readonly channel: string,
    private readonly target: Target,
  ) {}

  /** Connects (resuming after the last position, if any); resolves at the `subscribed` frame. */
  connect(timeoutMs: number): Promise<void> {
    if (this.state !== State.Away) return Promise.reject(new Error('already connected'));
    const since = this.epoch === undefined ? 'now' : `${this.epoch}:${this.last}`;
    const t = this.target;
    this.state = State.Subscribing;
    this.upgraded = false;
    this.pending = undefined;
    this.fragments = [];
    this.key = upgradeKey();
    const socket = connect({
      host: t.host,
      port: t.port,
      ...(t.localAddress ? { localAddress: t.localAddress } : {}),
      onread: {
        buffer: sharedReadBuffer,
        callback: (n: number, buf: Uint8Array) => {
          if (this.socket === socket) this.onBytes(buf as Buffer, n);
          return true;
        },
      },
    });
    this.socket = socket;
    socket.setNoDelay(true);
    const started = performance.now();
    let tcpMs = -1;
    socket.on('connect', () => {
      tcpMs = performance.now() - started;
      socket.write(upgradeRequest(t.host, t.port, `${t.path}&since=${encodeURIComponent(since)}`, this.key));
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      if (this.socket === socket) this.closed();
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const stage = this.upgraded
          ? 'upgraded, no subscribed frame'
          : tcpMs >= 0
            ? `TCP connected after ${tcpMs.toFixed(0)} ms, no upgrade response`
            : 'no TCP connection';
        this.fail(new Error(`not subscribed within ${timeoutMs} ms (${stage})`));
        socket.destroy();
      }, timeoutMs);
      this.settle = { resolve, reject, timer };
    });
  }

  /**
   * Leaves: `clean` sends a close frame and waits for the server's; `abrupt` drops the TCP
   * connection. Resolves once the socket is closed.
   */
  leave(mode: 'clean' | 'abrupt'): Promise<void> {
    const socket = this.socket;
    if (socket === undefined || this.state !== State.Live) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => socket.destroy(), 5000);
      this.leaving = () => {
        clearTimeout(timer);
        resolve();
      };
      this.state = State.Closing;
      if (mode === 'clean') socket.write(CLOSE_NORMAL);
      else socket.destroy();
    });
  }

  /** Gives up the connection for good (end of the run). */
  destroy(): void {
    const s = this.socket;
    this.socket = undefined;
    this.state = State.Away;
    s?.destroy();
  }

  private closed(): void {
    const was = this.state;
    this.socket = undefined;
    this.state = State.Away;
    const leaving = this.leaving;
    this.leaving = undefined;
    if (leaving) {
      this.fail(new Error('left before subscribed'));
      leaving();
      return;
    }
    if (this.settle) {
      this.fail(new Error(this.upgraded ? 'closed before subscribed' : 'closed during the handshake'));
      return;
    }
    if (was === State.Live) {
      audit.unexpectedCloses++;
      this.onDrop(this);
    }
  }

  private fail(err: Error): void {
    const s = this.settle;
    this.settle = undefined;
    if (s) {
      clearTimeout(s.timer);
      s.reject(err);
    }
  }

  private onBytes(buf: Buffer, n: number): void {
    let data = buf.subarray(0, n);
    if (this.pending) {
      data = Buffer.concat([this.pending, data]);
      this.pending = undefined;
    }
    let i = 0;
    if (!this.upgraded) {
      const at = data.indexOf('\r\n\r\n');
      if (at < 0) {
        if (data.length > MAX_HEAD_BYTES) this.abort('upgrade response head too large');
        else this.pending = Buffer.from(data);
        return;
      }
      if (!this.checkUpgrade(data.toString('latin1', 0, at))) return;
      this.upgraded = true;
      i = at + 4;
    }
    const end = data.length;
    while (end - i >= 2 && this.socket !== undefined) {
      const b0 = data[i] as number;
      const b1 = data[i + 1] as number;
      let len = b1 & 0x7f;
      let hs = 2;
      if (len === 126) {
        if (end - i < 4) break;
        len = data.readUInt16BE(i + 2);
        hs = 4;
      } else if (len === 127) {
        if (end - i < 10) break;
        len = data.readUInt32BE(i + 2) * 2 ** 32 + data.readUInt32BE(i + 6);
        hs = 10;
      }
      if (b1 & 0x80) {
        this.abort('server sent a masked frame');
        return;
      }
      if (end - i < hs + len) break;
      this.frame(b0, data.subarray(i + hs, i + hs + len));
      i += hs + len;
    }
    // The shared read buffer is reused: a partial frame must be copied.
    if (i < end && this.socket !== undefined) this.pending = Buffer.from(data.subarray(i));
  }

  private checkUpgrade(head: string): boolean {
    const problem = upgradeProblem(head, this.key);
    if (problem !== undefined) this.abort(problem);
    return problem === undefined;
  }

  private abort(reason: string): void {
    this.fail(new Error(reason));
    this.socket?.destroy();
  }

  private frame(b0: number, payload: Buffer): void {
    const op = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    if (op === Op.Ping) {
      this.socket?.write(clientFrame(Op.Pong, payload));
      return;
    }
    if (op === Op.Close) {
      const code = payload.length >= 2 ? String(payload.readUInt16BE(0)) : 'no-code';
      if (this.state !== State.Closing) {
        count(audit.closes, code);
        example(`${this.channel} #${this.id}: server closed the connection (${code} ${payload.subarray(2)})`);
        this.fail(new Error(`server closed the connection (${code})`));
      }
      this.socket?.destroy();
      return;
    }
    if (op === Op.Pong) return;
    // Herald does not fragment, but a fragmented message is still a message.
    if (!fin || (op === Op.Continuation && this.fragments.length > 0)) {
      this.fragments.push(Buffer.from(payload));
      if (!fin) return;
      payload = Buffer.concat(this.fragments);
      this.fragments = [];
    }
    this.message(payload);
  }

  private message(payload: Buffer): void {
    let m: Message;
    try {
      m = JSON.parse(payload.toString('utf8')) as Message;
    } catch {
      audit.unexpectedFrames++;
      example(`${this.channel} #${this.id}: a frame that is not JSON`);
      return;
    }
    if (m.kind === 'data') this.data(m);
    else if (m.kind === 'subscribed') this.subscribed(m);
    else {
      audit.unexpectedFrames++;
      example(`${this.channel} #${this.id}: unexpected frame kind ${JSON.stringify(m.kind)}`);
    }
  }

  private subscribed(m: Message): void {
    const d = m.data ?? {};
    if (this.state !== State.Subscribing || m.channel !== this.channel || typeof d.epoch !== 'string') {
      audit.unexpectedFrames++;
      example(`${this.channel} #${this.id}: unexpected subscribed frame ${JSON.stringify(m)}`);
      return;
    }
    const seq = Number(d.seq);
    if (this.epoch === undefined) {
      this.epoch = d.epoch;
      this.last = seq;
    } else {
      this.resumes++;
      if (d.recovered !== true) {
        audit.recoveredFalse++;
        example(`${this.channel} #${this.id}: resume after ${this.epoch}:${this.last} not recovered`);
      } else if (d.epoch !== this.epoch || seq !== this.last) {
        audit.unexpectedFrames++;
        example(
          `${this.channel} #${this.id}: resumed at ${d.epoch}:${seq}, asked for ${this.epoch}:${this.last}`,
        );
      }
    }
    this.state = State.Live;
    this.liveSince = nowMs();
    const s = this.settle;
    this.settle = undefined;
    if (s) {
      clearTimeout(s.timer);
      s.resolve();
    }
  }

  private data(m: Message): void {
    if (this.state === State.Subscribing) {
      audit.unexpectedFrames++;
      example(`${this.channel} #${this.id}: a message before the subscribed frame`);
    }
    if (m.channel !== this.channel) {
      audit.wrongChannel++;
      example(`${this.channel} #${this.id}: a message of channel ${m.channel}`);
      return;
    }
    audit.deliveries++;
    const seq = Number(m.seq);
    if (m.epoch !== this.epoch) {
      audit.epochChanges++;
      example(`${this.channel} #${this.id}: epoch ${this.epoch} → ${m.epoch} at seq ${seq}`);
      this.epoch = m.epoch;
      this.last = seq;
    } else this.order(seq);
    const t = m.data?.t;
    if (typeof t === 'number') {
      if (t < this.liveSince) audit.replayed++;
      else latencySink(Math.max(1, (nowMs() - t) * 1000));
    }
  }

  private order(seq: number): void {
    const expected = this.last + 1;
    if (seq === expected) {
      this.last = seq;
      return;
    }
    if (seq > expected) {
      audit.lost += seq - expected;
      example(`${this.channel} #${this.id}: seq ${seq} after ${this.last} (gap)`);
      for (let k = expected; k < seq && this.gaps.length < MAX_GAPS; k++) this.gaps.push(k);
      this.last = seq;
      return;
    }
    const at = this.gaps.indexOf(seq);
    if (at >= 0) {
      this.gaps.splice(at, 1);
      audit.lost--;
      audit.reordered++;
      example(`${this.channel} #${this.id}: seq ${seq} after ${this.last} (late)`);
    } else {
      audit.duplicated++;
      example(`${this.channel} #${this.id}: seq ${seq} again (last ${this.last})`);
    }
  }
}
