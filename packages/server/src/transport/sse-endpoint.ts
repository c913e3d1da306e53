/**
 * `GET /v1/realtime/sse`: Server-Sent-Events subscriptions (§4). Same subscription semantics as
 * WebSocket; headers are written only after the subscription is registered, so errors still get a
 * real status code and nothing published after the headers is missed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearerOf } from '../auth/authenticate.js';
import { subscribeGranted } from '../hub/subscriptions.js';
import { unavailable } from '../protocol/errors.js';
import type { ServerContext } from './context.js';
import { SseConnection } from './sse-connection.js';

export async function handleSse(
  ctx: ServerContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  if (ctx.closing()) throw unavailable('server is shutting down; connect to another node');
  const claims = await ctx.auth.subscriber(bearerOf(req, url));
  const conn = new SseConnection(
    ctx.connectionOptions(claims.env),
    res,
    ctx.config.pingIntervalSeconds * 1000,
  );
  ctx.hub.add(conn);
  res.on('close', () => {
    conn.markClosed();
    ctx.hub.remove(conn);
  });
  try {
    await subscribeGranted(ctx.hub, conn, claims);
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
    'Access-Control-Expose-Headers': 'Content-Type',
    // Tell proxies such as nginx not to buffer the stream.
    'X-Accel-Buffering': 'no',
  });
  res.write(':\n\n');
  conn.markOpen();
}
