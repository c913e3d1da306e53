/**
 * A lean WebSocket subscriber for load generation: a raw TCP socket that does the RFC 6455
 * handshake by hand, then walks frame headers and counts messages without decoding them. Only
 * sampling sockets copy their payloads, to read the publish timestamp for latency.
 *
 * Every socket reads into one shared buffer (`onread`), so receiving allocates nothing per read.
 * Socket.IO is spoken just enough: Engine.IO open (`0{…}`), namespace connect (`40`), a `join` event
 * with an acknowledgement, Engine.IO ping (`2`) → pong (`3`), and `42[…]` event frames counted.
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

/** Sampled payloads longer than this are counted but not decoded. */
const MAX_COLLECT_BYTES = 16 * 1024;
/** Room for the longest unmasked frame header (2 + 8) plus a mask (4). */
const MAX_HEADER_BYTES = 14;

/** Where a socket is in its life. */
export const Phase = {
  Upgrading: 0,
  /** Socket.IO: waiting for Engine.IO `0{…}`. */
  SioOpen: 1,
  /** Socket.IO: sent `40`, waiting for `40{…}`. */
  SioConnect: 2,
  /** Socket.IO: sent the `join` event, waiting for its ack `430…`. */
  SioJoin: 3,
  Ready: 4,
  Closed: 5,
} as const;
type Phase = (typeof Phase)[keyof typeof Phase];

/** Process-wide counters over all sockets. */
export const totals = {
  received: 0,
  bytes: 0,
  samples: 0,
  /** WebSocket pings answered (Socket.IO pings are not counted). */
  pings: 0,
  /** Close codes received (or `abnormal` when the TCP connection ended without one). */
  closes: new Map<string, number>(),
};

/** Called with each sampled publish-to-receive latency, in microseconds. */
let sampleSink: (micros: number) => void = () => {};
export function onSample(fn: (micros: number) => void): void {
  sampleSink = fn;
}

const sharedReadBuffer = Buffer.allocUnsafe(256 * 1024);
const T_MARKER = Buffer.from('"t":');

function headerSize(b1: number): number {
  const len7 = b1 & 0x7f;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
}

/** Reads the number after `"t":` in a payload (ms since the epoch, with a fraction). */
function readTimestamp(buf: Buffer, len: number): number {
  const at = buf.subarray(0, len).indexOf(T_MARKER);
  if (at < 0) return Number.NaN;
  const i = at + T_MARKER.length;
  let end = i;
  while (end < len) {
    const c = buf[end] as number;
    if ((c < 0x30 || c > 0x39) && c !== 0x2e) break;
    end++;
  }
  if (end === i) return Number.NaN;
  return Number(buf.toString('latin1', i, end));
}

export interface LeanOptions {
  host: string;
  port: number;
  path: string;
  localAddress?: string;
  sio: boolean;
  /** Socket.IO room to join. */
  room?: string;
  sampler: boolean;
  timeoutMs: number;
}

export class LeanSocket {
  phase: Phase = Phase.Upgrading;
  received = 0;
  private readonly socket: Socket;
  private readonly key = upgradeKey();
  private head = '';
  /** Payload bytes of the current frame still to walk past. */
  private skip = 0;
  private opcode = 0;
  private messageOpcode = 0;
  private fin = false;
  private frameBytes = 0;
  private collecting = false;
  private collect: Buffer | undefined;
  private collectLen = 0;
  /** First two payload bytes of the current data message (Socket.IO packet type), packed. */
  private prefix = 0;
  private prefixLen = 0;
  private readonly hdr = Buffer.alloc(MAX_HEADER_BYTES);
  private hdrLen = 0;
  private settle: { resolve: () => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | undefined;

  constructor(private readonly o: LeanOptions) {
    this.socket = connect({
      host: o.host,
      port: o.port,
      ...(o.localAddress ? { localAddress: o.localAddress } : {}),
      onread: {
        buffer: sharedReadBuffer,
        callback: (n: number, buf: Uint8Array) => {
          this.onBytes(buf as Buffer, n);
          return true;
        },
      },
    });
    this.socket.setNoDelay(true);
    this.socket.on('connect', () => {
      this.socket.write(upgradeRequest(o.host, o.port, o.path, this.key));
    });
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => {
      if (this.phase !== Phase.Closed) {
        this.phase = Phase.Closed;
        count(totals.closes, 'abnormal');
      }
      this.fail(new Error('connection closed during the handshake'));
    });
  }

  /** Resolves when the socket is subscribed (WebSocket open; Socket.IO room joined). */
  ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new Error(`handshake timed out after ${this.o.timeoutMs} ms`));
        this.destroy();
      }, this.o.timeoutMs);
      this.settle = { resolve, reject, timer };
    });
  }

  destroy(): void {
    if (this.phase !== Phase.Closed) this.phase = Phase.Closed;
    this.socket.destroy();
  }

  private succeed(): void {
    this.phase = Phase.Ready;
    const s = this.settle;
    this.settle = undefined;
    if (s) {
      clearTimeout(s.timer);
      s.resolve();
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
    let start = 0;
    if (this.phase === Phase.Upgrading) {
      const before = this.head.length;
      this.head += buf.toString('latin1', 0, n);
      const at = this.head.indexOf('\r\n\r\n');
      if (at < 0) {
        if (this.head.length > MAX_HEAD_BYTES) this.abort('upgrade response head too large');
        return;
      }
      if (!this.checkUpgrade(this.head.slice(0, at))) return;
      start = at + 4 - before;
      this.head = '';
      if (this.o.sio) this.phase = Phase.SioOpen;
      else this.succeed();
    }
    if (this.phase !== Phase.Closed) this.walk(buf, start, n);
  }

  private checkUpgrade(head: string): boolean {
    const problem = upgradeProblem(head, this.key);
    if (problem !== undefined) this.abort(problem);
    return problem === undefined;
  }

  private abort(reason: string): void {
    this.fail(new Error(reason));
    this.destroy();
  }

  private walk(buf: Buffer, start: number, end: number): void {
    let i = start;
    while (i < end && this.phase !== Phase.Closed) {
      if (this.skip > 0) {
        const take = Math.min(this.skip, end - i);
        if (this.collecting) this.append(buf, i, take);
        else if (this.prefixLen < 2) this.peek(buf, i, take);
        i += take;
        this.skip -= take;
        if (this.skip === 0) this.frameDone();
        continue;
      }
      if (this.hdrLen === 0 && end - i >= 2) {
        const size = headerSize(buf[i + 1] as number);
        if (end - i >= size) {
          this.startFrame(buf, i);
          i += size;
          continue;
        }
      }
      // A header split across reads: carry it byte by byte (rare).
      this.hdr[this.hdrLen++] = buf[i++] as number;
      if (this.hdrLen >= 2 && this.hdrLen === headerSize(this.hdr[1] as number)) {
        this.hdrLen = 0;
        this.startFrame(this.hdr, 0);
      }
    }
  }

  private startFrame(b: Buffer, p: number): void {
    const b0 = b[p] as number;
    const b1 = b[p + 1] as number;
    if (b1 & 0x80) {
      this.abort('server sent a masked frame');
      return;
    }
    let len = b1 & 0x7f;
    if (len === 126) len = b.readUInt16BE(p + 2);
    else if (len === 127) len = b.readUInt32BE(p + 2) * 2 ** 32 + b.readUInt32BE(p + 6);
    this.fin = (b0 & 0x80) !== 0;
    this.opcode = b0 & 0x0f;
    this.skip = len;
    if (this.opcode < Op.Close) {
      if (this.opcode !== Op.Continuation) {
        this.messageOpcode = this.opcode;
        this.frameBytes = 0;
        this.prefix = 0;
        this.prefixLen = 0;
        this.collectLen = 0;
        this.collecting =
          this.phase !== Phase.Ready || this.o.sampler || (this.o.sio && len <= 8 && this.fin);
      }
      this.frameBytes += len;
    } else {
      // Control frames may interleave a fragmented message; they are short and always read.
      this.collecting = true;
      this.collectLen = 0;
    }
    if (len === 0) this.frameDone();
  }

  private append(buf: Buffer, at: number, n: number): void {
    if (this.prefixLen < 2) this.peek(buf, at, n);
    const room = MAX_COLLECT_BYTES - this.collectLen;
    if (room <= 0) return;
    this.collect ??= Buffer.allocUnsafe(MAX_COLLECT_BYTES);
    const take = Math.min(room, n);
    buf.copy(this.collect, this.collectLen, at, at + take);
    this.collectLen += take;
  }

  private peek(buf: Buffer, at: number, n: number): void {
    for (let k = 0; k < n && this.prefixLen < 2; k++) {
      this.prefix = (this.prefix << 8) | (buf[at + k] as number);
      this.prefixLen++;
    }
  }

  private frameDone(): void {
    const op = this.opcode;
    if (op >= Op.Close) {
      this.control(op);
      return;
    }
    if (!this.fin) return;
    if (this.phase !== Phase.Ready) {
      this.sioHandshake();
      return;
    }
    if (this.o.sio) {
      // `42` = Socket.IO EVENT inside an Engine.IO MESSAGE; `2` = Engine.IO ping.
      if (this.prefixLen === 1 && this.prefix === 0x32) {
        this.sendText('3');
        return;
      }
      if (this.prefixLen < 2 || this.prefix !== 0x3432) return;
    }
    this.received++;
    totals.received++;
    totals.bytes += this.frameBytes;
    if (this.o.sampler && this.messageOpcode === Op.Text && this.collectLen > 0) {
      const t = readTimestamp(this.collect as Buffer, this.collectLen);
      if (t > 0) {
        const micros = (performance.timeOrigin + performance.now() - t) * 1000;
        totals.samples++;
        sampleSink(Math.max(micros, 1));
      }
    }
  }

  private control(op: number): void {
    const payload = this.collect ? this.collect.subarray(0, this.collectLen) : Buffer.alloc(0);
    if (op === Op.Ping) {
      totals.pings++;
      this.socket.write(clientFrame(Op.Pong, Buffer.from(payload)));
    } else if (op === Op.Close) {
      const code = payload.length >= 2 ? String(payload.readUInt16BE(0)) : 'no-code';
      count(totals.closes, code);
      this.fail(new Error(`server closed the connection (${code} ${payload.subarray(2).toString()})`));
      this.destroy();
    }
    this.collectLen = 0;
  }

  private sioHandshake(): void {
    const text = this.collect ? this.collect.toString('utf8', 0, this.collectLen) : '';
    this.collectLen = 0;
    if (text === '2') {
      this.sendText('3');
      return;
    }
    if (this.phase === Phase.SioOpen && text.startsWith('0')) {
      this.phase = Phase.SioConnect;
      this.sendText('40');
    } else if (this.phase === Phase.SioConnect && text.startsWith('40')) {
      this.phase = Phase.SioJoin;
      this.sendText(`420["join",${JSON.stringify(this.o.room ?? '')}]`);
    } else if (this.phase === Phase.SioJoin && text.startsWith('430')) {
      this.succeed();
    } else {
      this.abort(`unexpected Socket.IO packet during the handshake: ${text.slice(0, 80)}`);
    }
  }

  private sendText(text: string): void {
    this.socket.write(clientFrame(Op.Text, Buffer.from(text)));
  }
}

function count(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}
