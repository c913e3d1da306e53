/**
 * Per-request logging and the auth-failure limit at the edge. Every HTTP request and WebSocket
 * upgrade gets a request id (the client's `X-Request-Id` if it is short and printable, else a new
 * one), echoed in the `X-Request-Id` response header and bound to every log line about it. Refused
 * credentials are logged with their specific reason here, and counted against the client's IP; the
 * client only hears the short message of the error.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AuthError } from '../auth/authenticate.js';
import { clientIp } from '../limits/client-ip.js';
import { type Logger, redactUrl } from '../log.js';
import { type HttpError, tooManyRequests } from '../protocol/errors.js';
import type { ServerContext } from './context.js';

export const REQUEST_ID_HEADER = 'X-Request-Id';
/** Routes that need a credential (in `herald start`), so the auth-failure limit applies to them. */
export const AUTH_ROUTES: ReadonlySet<string> = new Set([
  '/v1/realtime/token',
  '/v1/realtime/publish',
  '/v1/realtime/publish/tee',
  '/v1/realtime/sse',
  '/v1/realtime/connect',
  '/v1/admin/stats',
]);

// Ids are this process's random prefix and a counter: short, unique across nodes in practice.
const BOOT = randomBytes(4).toString('hex');
let counter = 0;
const ACCEPTED_ID = /^[\x21-\x7e]{1,64}$/;

/** The client's `X-Request-Id` when it is short and printable (so it is safe to echo and log). */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  if (typeof given === 'string' && ACCEPTED_ID.test(given)) return given;
  return `${BOOT}-${(++counter).toString(36)}`;
}

/** One request or upgrade as the logs see it. The child logger is made only when something logs. */
export class RequestScope {
  private child: Logger | undefined;

  constructor(
    readonly id: string,
    readonly ip: string,
    private readonly base: Logger,
  ) {}

  get log(): Logger {
    this.child ??= this.base.child({ reqId: this.id, ip: this.ip });
    return this.child;
  }
}

const SCOPE = Symbol('herald.requestScope');
type Scoped = IncomingMessage & { [SCOPE]?: RequestScope };

/** The scope `begin*` attached to `req`. */
export function scopeOf(req: IncomingMessage): RequestScope | undefined {
  return (req as Scoped)[SCOPE];
}

function attach(ctx: ServerContext, req: IncomingMessage): RequestScope {
  const scope = new RequestScope(requestIdOf(req), clientIp(req, ctx.config.trustProxy), ctx.log);
  (req as Scoped)[SCOPE] = scope;
  return scope;
}

/**
 * Starts an HTTP request: its id goes into the response header, and at debug level one line is
 * logged when the response ends (method, path with credentials redacted, status, milliseconds).
 */
export function beginRequest(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): RequestScope {
  const scope = attach(ctx, req);
  res.setHeader(REQUEST_ID_HEADER, scope.id);
  if (ctx.log.isLevelEnabled('debug')) {
    const started = performance.now();
    res.once('close', () => {
      scope.log.debug(
        {
          method: req.method,
          path: redactUrl(req.url ?? '/'),
          status: res.statusCode,
          ms: Math.round((performance.now() - started) * 10) / 10,
          ...(res.writableFinished ? {} : { aborted: true }),
        },
        'request',
      );
    });
  }
  return scope;
}

/** Starts a WebSocket upgrade (its answer is written by the endpoint, with the id in its headers). */
export function beginUpgrade(ctx: ServerContext, req: IncomingMessage): RequestScope {
  const scope = attach(ctx, req);
  // Asked first: `scope.log` makes a child logger, which the connection would keep all its life.
  if (ctx.log.isLevelEnabled('debug'))
    scope.log.debug({ method: req.method, path: redactUrl(req.url ?? '/') }, 'websocket upgrade');
  return scope;
}

/**
 * Throws 429 (its `Retry-After` says when the block ends) when the client's IP is over the
 * auth-failure limit; called before a credential is even looked at, so a correct one does not get
 * through either.
 */
export function checkAuthFailures(ctx: ServerContext, scope: RequestScope): void {
  const wait = ctx.authFailures.retryAfter(scope.ip);
  if (wait === 0) return;
  ctx.metrics.limitRefusals.inc({ limit: 'auth_failures' });
  scope.log.debug({ retryAfter: wait }, 'refused: auth failure limit');
  throw tooManyAuthFailures(wait);
}

export function tooManyAuthFailures(wait: number): HttpError {
  return tooManyRequests(`Too many failed authentications from your address; retry in ${wait} s`, wait);
}

/**
 * Logs a refused credential with its specific reason; a guess (wrong key, forged or malformed
 * token) is logged at warn and counted against the client's IP, anything else (no credential, an
 * expired or misplaced genuine token) at info. Other errors are ignored.
 */
export function noteAuthFailure(ctx: ServerContext, scope: RequestScope, err: unknown, route: string): void {
  if (!(err instanceof AuthError)) return;
  const fields = { route, reason: err.reason, status: err.status };
  if (!err.guess) {
    scope.log.info(fields, 'auth refused');
    return;
  }
  scope.log.warn(fields, 'auth refused');
  // Logged once per block; the requests refused during it only at debug.
  if (ctx.authFailures.fail(scope.ip))
    scope.log.warn(
      { route, limit: ctx.authFailures.limit, retryAfter: ctx.authFailures.retryAfter(scope.ip) },
      'auth failure limit reached: this address is refused until its minute is over',
    );
}
