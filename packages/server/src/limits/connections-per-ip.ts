/**
 * Open subscriber connections (WebSocket and SSE together) per client IP, against
 * `--max-connections-per-ip`. `acquire` hands back a release function that counts down exactly
 * once, however often it is called, so every way a connection can end may call it.
 */

/** What `acquire` returns when there is no cap: nothing to count, nothing to release. */
const NOTHING = (): void => {};

export class ConnectionsPerIp {
  private readonly open = new Map<string, number>();

  /** `cap` 0 means no cap (and no counting). */
  constructor(readonly cap: number) {}

  /** Counts a connection from `ip`; undefined when `ip` already holds `cap` connections. */
  acquire(ip: string): (() => void) | undefined {
    if (this.cap === 0) return NOTHING;
    const n = this.open.get(ip) ?? 0;
    if (n >= this.cap) return undefined;
    this.open.set(ip, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(ip) ?? 1) - 1;
      if (left <= 0) this.open.delete(ip);
      else this.open.set(ip, left);
    };
  }

  /** Connections counted for `ip`. */
  count(ip: string): number {
    return this.open.get(ip) ?? 0;
  }

  /** IPs with at least one counted connection. */
  get ips(): number {
    return this.open.size;
  }
}
