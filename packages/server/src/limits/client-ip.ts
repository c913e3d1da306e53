/**
 * The client IP of a request: the socket's remote address, or — behind a proxy the operator trusts
 * (`--trust-proxy`) — the last hop of `X-Forwarded-For`, the address that proxy saw. Earlier hops
 * are whatever the client wrote, so they are never used.
 */
import type { IncomingMessage } from 'node:http';

/** `::ffff:10.0.0.1` and `10.0.0.1` are one client. */
function normalise(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

export function clientIp(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const header = req.headers['x-forwarded-for'];
    const joined = Array.isArray(header) ? header.join(',') : header;
    if (joined) {
      const hops = joined.split(',');
      for (let i = hops.length - 1; i >= 0; i--) {
        const hop = (hops[i] as string).trim();
        if (hop !== '') return normalise(hop);
      }
    }
  }
  return normalise(req.socket.remoteAddress ?? 'unknown');
}
