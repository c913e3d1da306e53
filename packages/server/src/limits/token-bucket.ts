/**
 * Token buckets: a rate of tokens a second and a burst (the most a bucket holds). One `Rate` is
 * shared by every bucket it governs; a bucket is only two numbers, so per-connection buckets stay
 * small. Times are milliseconds (`Date.now()`), passed in so tests need no clock.
 */
export interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date. */
  at: number;
}

export class Rate {
  constructor(
    /** Tokens added per second; must be positive. */
    readonly perSecond: number,
    /** Most tokens a bucket holds (what an idle client may spend at once); at least 1. */
    readonly burst: number,
  ) {
    if (!(perSecond > 0)) throw new Error(`rate must be positive, not ${perSecond}`);
    if (!(burst >= 1)) throw new Error(`burst must be at least 1, not ${burst}`);
  }

  /** Milliseconds an empty bucket takes to fill up again. */
  get refillMs(): number {
    return (this.burst / this.perSecond) * 1000;
  }

  /** A full bucket. */
  bucket(now: number): Bucket {
    return { tokens: this.burst, at: now };
  }

  /** Takes one token if there is one; false means over the rate (nothing was taken). */
  take(b: Bucket, now: number): boolean {
    this.refill(b, now);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Whole seconds until the bucket holds a token again (at least 1, for `Retry-After`). */
  retryAfterSeconds(b: Bucket, now: number): number {
    this.refill(b, now);
    return Math.max(1, Math.ceil((1 - b.tokens) / this.perSecond));
  }

  /** A full bucket is the same as no bucket: it can be forgotten. */
  isFull(b: Bucket, now: number): boolean {
    this.refill(b, now);
    return b.tokens >= this.burst;
  }

  private refill(b: Bucket, now: number): void {
    if (now <= b.at) return;
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
  }
}
