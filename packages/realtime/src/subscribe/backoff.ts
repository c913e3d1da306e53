/**
 * Reconnect delays: exponential backoff with full jitter (a random delay between 0 and the capped
 * exponential), so a crowd of clients cut at once does not come back at once.
 */
export interface BackoffOptions {
  /** Upper bound of the first delay, in milliseconds (default 250). */
  minDelayMs?: number;
  /** Largest delay, in milliseconds (default 10 000). */
  maxDelayMs?: number;
}

export const DEFAULT_MIN_DELAY_MS = 250;
export const DEFAULT_MAX_DELAY_MS = 10_000;

/** The delay before reconnect attempt `attempt` (0 for the first). */
export function backoffDelay(
  attempt: number,
  o: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const min = o.minDelayMs ?? DEFAULT_MIN_DELAY_MS;
  const max = o.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  const cap = Math.min(max, min * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * cap);
}
