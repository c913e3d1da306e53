/**
 * The auth-failure limit (`--auth-failure-limit`): an IP that failed to authenticate `limit` times
 * within a minute is refused (429) on every route that needs a credential until that minute is
 * over — even with a correct one, or guessing would simply go on among the refusals. One fixed
 * window per IP, opened by its first failure; memory is bounded by `maxEntries` (oldest windows
 * are forgotten first, and expired ones whenever the table is swept). An IPv6 address counts as its
 * /64: one host usually holds a whole /64, and could otherwise rotate addresses to dodge the limit.
 */

export const AUTH_FAILURE_WINDOW_MS = 60_000;

/** The key an address is counted under: IPv4 as is, IPv6 by its first 64 bits. */
export function clientKey(ip: string): string {
  if (!ip.includes(':')) return ip;
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (v4) return v4[1] as string;
  const [head = '', tail = ''] = ip.split('%')[0]?.split('::') ?? [];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::')
    ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g || '0', 16).toString(16))
    .join(':')}::/64`;
}

interface Window {
  /** When the IP's first failure of this window happened. */
  start: number;
  failures: number;
}

export class AuthFailureLimiter {
  // A Map iterates in insertion order and a window is re-inserted when it restarts, so the first
  // entries are always the oldest windows.
  private readonly windows = new Map<string, Window>();

  constructor(
    /** Failures per window that trigger the block; 0 turns the limiter off. */
    readonly limit: number,
    private readonly maxEntries = 10_000,
    private readonly windowMs = AUTH_FAILURE_WINDOW_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get enabled(): boolean {
    return this.limit > 0;
  }

  /** IPs currently tracked (for tests and metrics). */
  get size(): number {
    return this.windows.size;
  }

  /** Seconds until `ip` may try again, or 0 when it is not blocked. */
  retryAfter(ip: string): number {
    if (!this.enabled) return 0;
    const key = clientKey(ip);
    const w = this.windows.get(key);
    if (w === undefined || w.failures < this.limit) return 0;
    const left = w.start + this.windowMs - this.now();
    if (left <= 0) {
      this.windows.delete(key);
      return 0;
    }
    return Math.ceil(left / 1000);
  }

  /** Records a failed authentication from `ip`; true when this one reached the limit (it is now blocked). */
  fail(ip: string): boolean {
    if (!this.enabled) return false;
    const now = this.now();
    const key = clientKey(ip);
    let w = this.windows.get(key);
    if (w === undefined || now - w.start >= this.windowMs) {
      if (w !== undefined) this.windows.delete(key);
      w = { start: now, failures: 0 };
      this.windows.set(key, w);
      if (this.windows.size > this.maxEntries) this.evict(now);
    }
    w.failures++;
    return w.failures === this.limit;
  }

  /** Drops expired windows; if the table is still full, the oldest ones. */
  private evict(now: number): void {
    for (const [key, w] of this.windows) {
      if (now - w.start < this.windowMs) break; // in start order: the rest are younger
      this.windows.delete(key);
    }
    for (const key of this.windows.keys()) {
      if (this.windows.size <= this.maxEntries) break;
      this.windows.delete(key);
    }
  }
}
