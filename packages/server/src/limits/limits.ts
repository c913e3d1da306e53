/**
 * The per-client limits a server enforces, built once from the Config by the composition root:
 * connections per IP, the publish rate per publisher, and the client frame rate per WebSocket.
 * Transports ask; the answers (statuses, close codes) are theirs to give.
 */
import type { IncomingMessage } from 'node:http';
import type { ServerPrincipal, TokenPrincipal } from '../auth/authenticate.js';
import type { Config } from '../config.js';
import { type HttpError, tooManyRequests } from '../protocol/errors.js';
import { clientIp } from './client-ip.js';
import { ConnectionsPerIp } from './connections-per-ip.js';
import { KeyedRateLimiter } from './rate-limiter.js';
import { Rate } from './token-bucket.js';

/** Client frames may come in bursts of this many seconds' worth before the rate applies. */
export const CLIENT_FRAME_BURST_SECONDS = 2;
/** Publishes may come in bursts of one second's worth. */
export const PUBLISH_BURST_SECONDS = 1;
/** What a client refused by the connection cap is told to wait, in seconds. */
export const CONNECTION_RETRY_AFTER_SECONDS = 5;

/** The `limit` label of `herald_limit_refusals_total`. */
export type LimitName =
  | 'connections_per_ip'
  | 'subscriptions_per_connection'
  | 'publish_rate'
  | 'client_frame_rate'
  | 'binary_frame'
  | 'body_timeout'
  | 'stream_idle_timeout'
  | 'header_timeout'
  | 'header_size';

export interface Limits {
  connections: ConnectionsPerIp;
  /** Undefined when `--publish-rate` is 0 (off). */
  publishRate: KeyedRateLimiter | undefined;
  /** Undefined when `--max-client-frames` is 0 (off). */
  clientFrames: Rate | undefined;
  clientIp(req: IncomingMessage): string;
}

export function createLimits(
  config: Pick<Config, 'maxConnectionsPerIp' | 'trustProxy' | 'publishRate' | 'maxClientFrames'>,
): Limits {
  const { trustProxy } = config;
  return {
    connections: new ConnectionsPerIp(config.maxConnectionsPerIp),
    publishRate:
      config.publishRate > 0
        ? new KeyedRateLimiter(config.publishRate, Math.max(1, config.publishRate * PUBLISH_BURST_SECONDS))
        : undefined,
    clientFrames:
      config.maxClientFrames > 0
        ? new Rate(config.maxClientFrames, Math.max(1, config.maxClientFrames * CLIENT_FRAME_BURST_SECONDS))
        : undefined,
    clientIp: (req) => clientIp(req, trustProxy),
  };
}

/** The 429 for a connection over `--max-connections-per-ip` (before any WebSocket handshake). */
export function tooManyConnections(cap: number): HttpError {
  return tooManyRequests(
    `too many connections from this address: at most ${cap} WebSocket and SSE connections together (--max-connections-per-ip); close some or retry later`,
    CONNECTION_RETRY_AFTER_SECONDS,
  );
}

/**
 * Whose publish budget a request spends: the env a signing key publishes to, a publish token's
 * env and subject, or — when auth is off — the client IP.
 */
export function publisherKey(principal: ServerPrincipal | TokenPrincipal, ip: string): string {
  if (principal.kind === 'token') return `token:${principal.claims.env}:${principal.claims.sub}`;
  if (principal.via === 'signing-key') return `key:${principal.env}`;
  return `ip:${ip}`;
}
