/**
 * `GET /v1/realtime/sse`: Server-Sent-Events subscriptions (§4). Same subscription semantics as
 * WebSocket; headers are written only after the subscription is registered, so errors still get a
 * real status code and nothing published after the headers is missed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearerOf } from '../auth/authenticate.js';
import { recover, register } from '../hub/recovery.js';
import { grantExceedsLimit, grantedTopics } from '../hub/subscriptions.js';
import { tooManyConnections } from '../limits/limits.js';
import { CloseCodes } from '../protocol/close-codes.js';
import { badRequest, unavailable } from '../protocol/errors.js';
import { parseResume, type ResumeRequest } from '../protocol/resume.js';
import type { ServerContext } from './context.js';
import { scopeOf } from './request-log.js';
import { SseConnection } from './sse-connection.js';

export async function handleSse(
  ctx: ServerContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  if (ctx.closing()) throw unavailable('server is shutting down; connect to another node');
  const log = scopeOf(req)?.log ?? ctx.log;
  // Counted with the WebSockets of the same IP, from here until the response closes, however.
  const release = ctx.limits.connections.acquire(ctx.limits.clientIp(req));
  if (release === undefined) {
    ctx.metrics.limitRefusals.inc({ limit: 'connections_per_ip' });
    throw tooManyConnections(ctx.limits.connections.cap);
  }
  if (res.destroyed) release();
  else if (ctx.limits.connections.cap > 0) res.once('close', release);
  const claims = await ctx.auth.subscriber(bearerOf(req, url));
  const tooMany = grantExceedsLimit(claims, ctx.config.maxSubscriptionsPerConnection);
  if (tooMany !== undefined) {
    ctx.metrics.limitRefusals.inc({ limit: 'subscriptions_per_connection' });
    throw badRequest(tooMany, 'token');
  }
  const since = url.searchParams.get('since');
  let resume: ResumeRequest | undefined = since ? parseResume(since) : undefined;
  const lastEventId = req.headers['last-event-id'];
  if (resume === undefined && typeof lastEventId === 'string' && lastEventId !== '') {
    // An EventSource reconnecting: resume after the last event it saw. A malformed id (not ours)
    // must not break its reconnect loop, so it only loses the resume.
    try {
      resume = parseResume(lastEventId, 'Last-Event-ID');
    } catch {
      log.debug({ lastEventId }, 'ignored malformed Last-Event-ID');
    }
  }
  // Event ids carry the channel position; with one channel per connection the id is unambiguous.
  const channels = new Set(grantedTopics(claims).map((t) => t.key));
  const conn = new SseConnection(
    ctx.connectionOptions(claims.env),
    res,
    ctx.config.pingIntervalSeconds * 1000,
    channels.size === 1,
  );
  conn.presentedToken(claims.exp * 1000, claims.iat === undefined ? undefined : claims.iat * 1000);
  // The client may have left while its token was checked: its 'close' has fired already, so a
  // connection added now would never be removed.
  if (res.destroyed) return;
  ctx.hub.add(conn);
  res.on('close', () => {
    conn.markClosed();
    ctx.hub.remove(conn);
  });
  let plans: Awaited<ReturnType<typeof register>>;
  try {
    plans = await register(ctx.hub, conn, claims, resume);
  } catch (err) {
    ctx.hub.remove(conn);
    throw unavailable(`could not subscribe: ${(err as Error).message}`);
  }
  if (res.destroyed) return;
  res.writeHead(200, {
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-cache',
    Connection: 'keep-alive',
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Expose-Headers': 'Content-Type, X-Request-Id',
    // Tell proxies such as nginx not to buffer the stream.
    'X-Accel-Buffering': 'no',
  });
  res.write(':\n\n');
  conn.markOpen();
  if (plans.length > 0)
    recover(ctx.engine, conn, plans).catch((err: unknown) => {
      log.error({ err, conn: conn.id }, 'recovery failed');
      conn.close(CloseCodes.InternalError);
    });
}
