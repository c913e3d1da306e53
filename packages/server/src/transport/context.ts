/** What the transports need, built once by the composition root (`server.ts`). */
import type { Authenticator } from '../auth/authenticate.js';
import type { AuthFailureLimiter } from '../auth/failure-limiter.js';
import type { TokenIssuer } from '../auth/token.js';
import type { Config } from '../config.js';
import type { Engine } from '../engine/engine.js';
import type { ConnectionOptions } from '../hub/connection.js';
import type { Hub } from '../hub/hub.js';
import type { Limits } from '../limits/limits.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Publisher } from '../protocol/publisher.js';
import type { UpstreamProxy } from './upstream-proxy.js';

export interface ServerContext {
  config: Config;
  auth: Authenticator;
  /** Failed authentications per client IP (`--auth-failure-limit`). */
  authFailures: AuthFailureLimiter;
  tokens: TokenIssuer;
  engine: Engine;
  hub: Hub;
  publisher: Publisher;
  metrics: Metrics;
  /** Per-client limits: connections per IP, publish rate, client frame rate. */
  limits: Limits;
  log: Logger;
  /** Options for a new subscriber connection in `env`. */
  connectionOptions(env: string): ConnectionOptions;
  /** Sidecar mode (`--inngest-upstream`): where requests outside Herald's routes go. */
  upstream: UpstreamProxy | undefined;
  /** True once shutdown began: new subscribers are refused. */
  closing(): boolean;
}
