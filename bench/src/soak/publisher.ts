/**
 * The soak's publisher: open loop (a fixed rate, each body stamped with its scheduled time in
 * `"t"`, like gen/publisher.ts), round-robin over the channels, HTTP/1.1 pipelining over a few
 * raw keep-alive sockets (like lib/pipelined.ts, so the publisher stays cheap) — but every answer
 * is read: the acknowledgement's `epoch` and `seq` (docs/protocol.md, publish) give each channel's
 * last position, which every subscriber must reach by the end of the run.
 */
import { connect, type Socket } from 'node:net';
import { payload } from '../gen/publisher.js';

/** How often the scheduler wakes up to send what is due. */
const TICK_MS = 2;
/** How long to wait for the last answers after the time is up. */
const DRAIN_MS = 30_000;

export interface PublisherOptions {
  host: string;
  port: number;
  /** Signing key (Bearer). */
  key: string;
  channels: string[];
  topic: string;
  /** Messages per second over all channels. */
  rate: number;
  durationMs: number;
  payloadBytes: number;
  /** Raw keep-alive sockets. */
  sockets: number;
  /** Requests in flight per socket at most; a due message finding every window full is skipped. */
  window: number;
}

export interface Position {
  epoch: string;
  seq: number;
}

export interface PublisherCounts {
  sent: number;
  ok: number;
  failed: number;
  skipped: number;
  /** Status codes other than 200 (or `closed` for requests lost with their socket), → count. */
  statuses: Record<string, number>;
  errors: string[];
  /** Acknowledgements whose epoch differs from an earlier one of the same channel. */
  epochChanges: number;
}

interface Lane {
  socket: Socket;
  /** Channel index of each request in flight, oldest first (answers come in order). */
  inflight: number[];
  carry: string;
  batch: string;
}

const CONTENT_LENGTH = /\r\ncontent-length:\s*(\d+)/i;

export class AckedPublisher {
  readonly counts: PublisherCounts = {
    sent: 0,
    ok: 0,
    failed: 0,
    skipped: 0,
    statuses: {},
    errors: [],
    epochChanges: 0,
  };
  /** Each channel's highest acknowledged position (index = channel index). */
  readonly finals: (Position | null)[];
  private readonly lanes: Lane[] = [];
  private readonly head: string[];
  private running = true;
  private next = 0;

  constructor(private readonly o: PublisherOptions) {
    this.finals = o.channels.map(() => null);
    this.head = o.channels.map(
      (c) =>
        `POST /v1/realtime/publish?channel=${encodeURIComponent(c)}&topic=${encodeURIComponent(o.topic)} HTTP/1.1\r\n` +
        `Host: ${o.host}:${o.port}\r\nAuthorization: Bearer ${o.key}\r\nContent-Type: application/json\r\nContent-Length: `,
    );
    for (let i = 0; i < o.sockets; i++) this.lanes.push(this.open());
  }

  get outstanding(): number {
    return this.lanes.reduce((a, l) => a + l.inflight.length, 0);
  }

  /** Publishes for the duration, then waits for the outstanding answers (bounded). */
  async run(): Promise<void> {
    const interval = 1000 / this.o.rate;
    const started = performance.now();
    let due = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const elapsed = performance.now() - started;
        const until = Math.min(elapsed, this.o.durationMs);
        while (due * interval < until) {
          this.send(performance.timeOrigin + started + due * interval);
          due++;
        }
        for (const l of this.lanes) this.flush(l);
        if (elapsed >= this.o.durationMs) {
          clearInterval(timer);
          resolve();
        }
      }, TICK_MS);
    });
    const drainUntil = performance.now() + DRAIN_MS;
    while (this.outstanding > 0 && performance.now() < drainUntil)
      await new Promise((r) => setTimeout(r, 10));
    this.running = false;
    for (const l of this.lanes) {
      this.failInflight(l, 'no answer before the drain deadline');
      l.socket.destroy();
    }
  }

  private open(): Lane {
    const socket = connect({ host: this.o.host, port: this.o.port });
    socket.setNoDelay(true);
    const lane: Lane = { socket, inflight: [], carry: '', batch: '' };
    socket.on('data', (d: Buffer) => this.onData(lane, d));
    socket.on('error', (e) => this.error(e.message));
    socket.on('close', () => {
      this.failInflight(lane, 'publisher connection closed with requests in flight');
      if (!this.running) return;
      const at = this.lanes.indexOf(lane);
      if (at >= 0) this.lanes[at] = this.open();
    });
    return lane;
  }

  private send(t: number): void {
    const n = this.next++;
    // The lane with the most room; none with room means the server is not keeping up.
    let lane: Lane | undefined;
    for (let k = 0; k < this.lanes.length; k++) {
      const l = this.lanes[(n + k) % this.lanes.length] as Lane;
      if (
        l.inflight.length < this.o.window &&
        (lane === undefined || l.inflight.length < lane.inflight.length)
      )
        lane = l;
    }
    if (lane === undefined) {
      this.counts.skipped++;
      return;
    }
    const channel = n % this.o.channels.length;
    const body = payload(t, this.o.payloadBytes);
    lane.batch += `${this.head[channel]}${Buffer.byteLength(body)}\r\n\r\n${body}`;
    lane.inflight.push(channel);
    this.counts.sent++;
  }

  private flush(l: Lane): void {
    if (l.batch === '') return;
    l.socket.write(l.batch);
    l.batch = '';
  }

  private onData(l: Lane, d: Buffer): void {
    l.carry += d.toString('latin1');
    for (;;) {
      const at = l.carry.indexOf('\r\n\r\n');
      if (at < 0) return;
      const head = l.carry.slice(0, at);
      const length = Number(CONTENT_LENGTH.exec(head)?.[1] ?? 0);
      const end = at + 4 + length;
      if (l.carry.length < end) return;
      const body = l.carry.slice(at + 4, end);
      l.carry = l.carry.slice(end);
      const channel = l.inflight.shift();
      if (channel === undefined) {
        this.error('an answer to no request');
        continue;
      }
      const status = head.slice(9, 12);
      if (status === '200') this.ack(channel, body);
      else {
        this.counts.failed++;
        this.counts.statuses[status] = (this.counts.statuses[status] ?? 0) + 1;
        this.error(`HTTP ${status}: ${body.trim().slice(0, 200)}`);
      }
    }
  }

  private ack(channel: number, body: string): void {
    let a: { epoch?: unknown; seq?: unknown; channel?: unknown };
    try {
      a = JSON.parse(body) as typeof a;
    } catch {
      a = {};
    }
    if (typeof a.epoch !== 'string' || typeof a.seq !== 'number' || a.channel !== this.o.channels[channel]) {
      this.counts.failed++;
      this.error(`an acknowledgement without its position: ${body.slice(0, 200)}`);
      return;
    }
    this.counts.ok++;
    const f = this.finals[channel];
    if (f === null || f === undefined) this.finals[channel] = { epoch: a.epoch, seq: a.seq };
    else if (f.epoch !== a.epoch) {
      this.counts.epochChanges++;
      this.error(`channel ${a.channel}: epoch ${f.epoch} → ${a.epoch}`);
      if (a.seq > 0) this.finals[channel] = { epoch: a.epoch, seq: a.seq };
    } else if (a.seq > f.seq) f.seq = a.seq;
  }

  private failInflight(l: Lane, why: string): void {
    if (l.inflight.length === 0) return;
    this.counts.failed += l.inflight.length;
    this.counts.statuses.closed = (this.counts.statuses.closed ?? 0) + l.inflight.length;
    l.inflight = [];
    this.error(why);
  }

  private error(text: string): void {
    if (this.counts.errors.length < 10 && !this.counts.errors.includes(text)) this.counts.errors.push(text);
  }
}
