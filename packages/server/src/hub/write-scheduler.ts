/**
 * Coalesces writes: messages queued for a connection during one turn of the event loop go out in
 * one write (one syscall) on the next, instead of one write per message. A fan-out of N messages
 * to M connections costs M writes, not N × M.
 *
 * Waiting for the next turn costs latency, and only pays off when the server is busy. So the
 * scheduler adapts, like Nagle's algorithm but by load: while the event loop is mostly idle it
 * flushes as soon as the current task is done (a microtask: lowest latency); once the loop is busy
 * (event-loop utilisation above BUSY_ABOVE) it waits for the next turn (setImmediate), where the
 * messages of many publishes meet in one write per connection.
 *
 * Subscribers of the same topic usually have the very same frames queued, so the joined batch is
 * built once and the same Buffer written to each of them (`join`).
 *
 * A run writes for at most RUN_BUDGET_MS, then leaves the rest to the next turn. Node 20 accepts
 * one connection per listening descriptor per turn of its event loop (libuv PR #3696), so a
 * saturated server that made long turns would keep reconnecting clients in the kernel's queue until
 * they time out: at 10 ms per run a soak of 200 reconnects/s starved (about 50 accepted a second);
 * at 2 ms, with `transport/accept-handles.ts`, it keeps up. The connections left over lose nothing
 * (their frames stay queued, and meet more in one write).
 */
import { performance } from 'node:perf_hooks';

export interface Flushable {
  flush(): void;
}

/** Event-loop utilisation above which writes wait for the next turn. */
export const BUSY_ABOVE = 0.6;
/** …and below which they go out at once again (hysteresis, so the mode does not flap). */
export const IDLE_BELOW = 0.4;
/** How often the utilisation is sampled, in milliseconds. */
export const SAMPLE_MS = 100;
/** Longest a run writes before yielding the rest to the next turn, in milliseconds. */
export const RUN_BUDGET_MS = 2;
/** Connections flushed between two looks at the clock. */
const CLOCK_EVERY = 64;

export class WriteScheduler {
  private dirty: Flushable[] = [];
  /** Where the run under way stopped in `dirty` (the rest waits for the next turn). */
  private next = 0;
  private scheduled = false;
  /** Whether writes wait for the next turn (busy) or go out after the current task (idle). */
  private batching = false;
  private sampler: NodeJS.Timeout | undefined;

  /** Starts adapting to load; without it the scheduler always batches per turn. */
  start(): void {
    let last = performance.eventLoopUtilization();
    this.sampler = setInterval(() => {
      const now = performance.eventLoopUtilization();
      const u = performance.eventLoopUtilization(now, last).utilization;
      last = now;
      if (this.batching ? u < IDLE_BELOW : u > BUSY_ABOVE) this.batching = !this.batching;
    }, SAMPLE_MS);
    this.sampler.unref();
  }

  stop(): void {
    if (this.sampler) clearInterval(this.sampler);
    this.sampler = undefined;
    this.batching = true;
  }

  get mode(): 'batch' | 'eager' {
    return this.batching || this.sampler === undefined ? 'batch' : 'eager';
  }

  mark(c: Flushable): void {
    this.dirty.push(c);
    if (!this.scheduled) {
      this.scheduled = true;
      if (this.mode === 'eager') queueMicrotask(this.run);
      else setImmediate(this.run);
    }
  }

  /** The last batch joined in this run, and its joined bytes. */
  private lastParts: Buffer[] | undefined;
  private lastJoined: Buffer | undefined;
  private running = false;

  /** One Buffer holding `parts` in order; reused when the previous caller had the same parts. */
  join(parts: Buffer[], bytes: number): Buffer {
    if (parts.length === 1) return parts[0] as Buffer;
    const last = this.lastParts;
    if (last !== undefined && last.length === parts.length) {
      let same = true;
      for (let i = 0; i < parts.length; i++) {
        if (last[i] !== parts[i]) {
          same = false;
          break;
        }
      }
      if (same) return this.lastJoined as Buffer;
    }
    const joined = Buffer.concat(parts, bytes);
    // Remembered only within a run (cleared at its end); a flush outside one (a close) keeps nothing.
    if (this.running) {
      this.lastParts = parts;
      this.lastJoined = joined;
    }
    return joined;
  }

  private readonly run = (): void => {
    // `scheduled` stays true while running: connections marked meanwhile join this batch.
    const batch = this.dirty;
    const deadline = performance.now() + RUN_BUDGET_MS;
    let i = this.next;
    this.running = true;
    try {
      while (i < batch.length) {
        (batch[i++] as Flushable).flush();
        if (i % CLOCK_EVERY === 0 && i < batch.length && performance.now() > deadline) break;
      }
    } finally {
      this.running = false;
      this.lastParts = undefined;
      this.lastJoined = undefined;
      if (i < batch.length) {
        // Out of budget: the rest (and whatever is marked meanwhile) go out next turn.
        this.next = i;
        setImmediate(this.run);
      } else {
        this.dirty = [];
        this.next = 0;
        this.scheduled = false;
      }
    }
  };
}
