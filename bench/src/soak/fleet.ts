/**
 * The subscribers of one soak worker process: connects its share, churns them (a random few leave
 * each tick — half with a clean close, half by dropping the TCP connection — stay away a moment
 * and come back with `since=<epoch>:<seq>`), and at the end checks each one reached its channel's
 * last position.
 */
import type { Position } from './publisher.js';
import { example, SoakSubscriber, State, type Target } from './subscriber.js';

/** Churn runs in small steps so reconnects are spread over each second, not bursts. */
const CHURN_TICK_MS = 100;
const RECONNECT_TIMEOUT_MS = 15_000;
/** Backoff between failed reconnects: first, and at most. */
const BACKOFF_MS = [100, 2000] as const;

export interface FleetOptions {
  host: string;
  port: number;
  /** Connect path (with its token) per channel. */
  paths: string[];
  channels: string[];
  count: number;
  /** Global index of this process's first subscriber: subscriber g listens to channel g % channels. */
  firstIndex: number;
  /** Loopback source addresses (past the ephemeral port range of one address). */
  sources: string[];
  concurrency: number;
  timeoutMs: number;
  /** A churned subscriber stays away a random time up to this, so its resume has messages to replay. */
  awayMs: number;
}

export interface FleetCounts {
  subscribers: number;
  live: number;
  /** Leaves started by churn. */
  leaves: number;
  /** Resumes completed (churn and unexpected closes). */
  reconnects: number;
  reconnectFailures: number;
  /** Subscribers between leaving and being live again. */
  cycling: number;
}

export interface VerifyResult {
  subscribers: number;
  live: number;
  caughtUp: number;
  behind: number;
  ahead: number;
  /** Messages behind subscribers never got (they count as lost). */
  missingTail: number;
  /** Subscribers whose last epoch is not the channel's. */
  wrongEpoch: number;
}

export class Fleet {
  readonly subs: SoakSubscriber[] = [];
  readonly counts = { leaves: 0, reconnects: 0, reconnectFailures: 0, cycling: 0 };
  private churnTimer: NodeJS.Timeout | undefined;
  private owed = 0;
  private stopped = false;

  constructor(private readonly o: FleetOptions) {
    for (let k = 0; k < o.count; k++) {
      const g = o.firstIndex + k;
      const c = g % o.channels.length;
      const target: Target = {
        host: o.host,
        port: o.port,
        path: o.paths[c] as string,
        ...(o.sources.length > 0 ? { localAddress: o.sources[g % o.sources.length] as string } : {}),
      };
      const s = new SoakSubscriber(g, o.channels[c] as string, target);
      s.onDrop = (x) => void this.comeBack(x);
      this.subs.push(s);
    }
  }

  /** Connects every subscriber, `concurrency` at a time. */
  async connectAll(
    onProgress: (connected: number, failed: number) => void,
  ): Promise<{ connected: number; failed: number; errors: string[] }> {
    let next = 0;
    let connected = 0;
    let failed = 0;
    const errors = new Set<string>();
    const progress = setInterval(() => onProgress(connected, failed), 250);
    const one = async () => {
      while (next < this.subs.length) {
        const s = this.subs[next++] as SoakSubscriber;
        try {
          await s.connect(this.o.timeoutMs);
          connected++;
        } catch (e) {
          failed++;
          s.destroy();
          if (errors.size < 5) errors.add((e as Error).message);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.o.concurrency) }, one));
    clearInterval(progress);
    return { connected, failed, errors: [...errors] };
  }

  /** Starts (or, with 0, stops) churn: `percent` of this process's subscribers per second. */
  churn(percent: number): void {
    clearInterval(this.churnTimer);
    this.churnTimer = undefined;
    if (percent <= 0) return;
    // Owed by the clock, not per tick: a late timer (a busy machine) still churns at the rate.
    const perMs = (this.subs.length * percent) / 100 / 1000;
    let last = performance.now();
    this.churnTimer = setInterval(() => {
      const now = performance.now();
      this.owed += (now - last) * perMs;
      last = now;
      while (this.owed >= 1) {
        this.owed--;
        const s = this.pickLive();
        if (s) void this.cycle(s, Math.random() < 0.5 ? 'clean' : 'abrupt');
      }
    }, CHURN_TICK_MS);
  }

  status(): FleetCounts {
    let live = 0;
    for (const s of this.subs) if (s.state === State.Live) live++;
    return { subscribers: this.subs.length, live, ...this.counts };
  }

  /** Compares every subscriber's position with its channel's last acknowledged one. */
  verify(finals: (Position | null)[]): VerifyResult {
    const r: VerifyResult = {
      subscribers: this.subs.length,
      live: 0,
      caughtUp: 0,
      behind: 0,
      ahead: 0,
      missingTail: 0,
      wrongEpoch: 0,
    };
    for (const s of this.subs) {
      if (s.state === State.Live) r.live++;
      const f = finals[s.id % this.o.channels.length] ?? { epoch: s.epoch ?? '', seq: 0 };
      if (s.epoch !== f.epoch) r.wrongEpoch++;
      else if (s.last === f.seq) r.caughtUp++;
      else if (s.last < f.seq) {
        r.behind++;
        r.missingTail += f.seq - s.last;
      } else r.ahead++;
    }
    return r;
  }

  /** Ends the run: no more churn or reconnects, every socket closed. */
  close(): void {
    this.stopped = true;
    this.churn(0);
    for (const s of this.subs) s.destroy();
  }

  private pickLive(): SoakSubscriber | undefined {
    for (let tries = 0; tries < 20; tries++) {
      const s = this.subs[Math.floor(Math.random() * this.subs.length)] as SoakSubscriber;
      if (s.state === State.Live) return s;
    }
    return undefined;
  }

  private async cycle(s: SoakSubscriber, mode: 'clean' | 'abrupt'): Promise<void> {
    this.counts.leaves++;
    this.counts.cycling++;
    try {
      await s.leave(mode);
      await new Promise((r) => setTimeout(r, Math.random() * this.o.awayMs));
      await this.reconnect(s);
    } finally {
      this.counts.cycling--;
    }
  }

  /** After an unexpected close: resume like a real client would. */
  private async comeBack(s: SoakSubscriber): Promise<void> {
    this.counts.cycling++;
    try {
      await this.reconnect(s);
    } finally {
      this.counts.cycling--;
    }
  }

  private async reconnect(s: SoakSubscriber): Promise<void> {
    let backoff: number = BACKOFF_MS[0];
    while (!this.stopped) {
      try {
        await s.connect(RECONNECT_TIMEOUT_MS);
        this.counts.reconnects++;
        return;
      } catch (e) {
        this.counts.reconnectFailures++;
        s.destroy();
        example(`${s.channel} #${s.id}: reconnect failed: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(BACKOFF_MS[1], backoff * 2);
      }
    }
  }
}
