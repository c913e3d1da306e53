/**
 * A token bucket per key (a publisher), for `--publish-rate`. Buckets that refilled completely are
 * forgotten (a full bucket and no bucket behave the same), so the map holds only keys seen within
 * the last refill period; `maxKeys` bounds it even against a flood of distinct keys.
 */
import { type Bucket, Rate } from './token-bucket.js';

/** Default bound on remembered keys; beyond it the oldest are dropped (they are let off lightly). */
const MAX_KEYS = 100_000;

export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

export class KeyedRateLimiter {
  readonly rate: Rate;
  private readonly buckets = new Map<string, Bucket>();
  private lastSweep = 0;

  constructor(
    perSecond: number,
    burst: number,
    private readonly maxKeys = MAX_KEYS,
  ) {
    this.rate = new Rate(perSecond, burst);
  }

  /** Number of keys remembered (for tests and stats). */
  get size(): number {
    return this.buckets.size;
  }

  /** Takes a token from `key`'s bucket. */
  take(key: string, now: number): RateDecision {
    this.sweep(now);
    let b = this.buckets.get(key);
    if (b === undefined) {
      b = this.rate.bucket(now);
      this.buckets.set(key, b);
      if (this.buckets.size > this.maxKeys) this.dropOldest();
    }
    if (this.rate.take(b, now)) return { ok: true };
    return { ok: false, retryAfterSeconds: this.rate.retryAfterSeconds(b, now) };
  }

  /** At most once per refill period: forgets full buckets. O(keys), amortised over the period. */
  private sweep(now: number): void {
    if (now - this.lastSweep < this.rate.refillMs) return;
    this.lastSweep = now;
    for (const [key, b] of this.buckets) if (this.rate.isFull(b, now)) this.buckets.delete(key);
  }

  private dropOldest(): void {
    // Maps iterate in insertion order: the first keys are the longest remembered.
    for (const key of this.buckets.keys()) {
      this.buckets.delete(key);
      if (this.buckets.size <= this.maxKeys) return;
    }
  }
}
