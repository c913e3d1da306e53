/**
 * `GET /v1/realtime/connect`: WebSocket subscriptions. Authenticates the token, registers every
 * topic it grants, and only then completes the upgrade, so nothing published after the client sees
 * `open` can be missed (F5). Client frames (`sub`, `unsub`) are answered; malformed text frames
 * are ignored and counted; binary frames close the connection (1003). Limits: connections per
 * client IP (429 before the handshake), subscriptions per connection (400 at connect, a refused
 * `sub`), client frames per second (4029).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, WebSocketServer } from 'ws';
import { bearerOf } from '../auth/authenticate.js';
import { ConnState } from '../hub/connection.js';
import { recover, register } from '../hub/recovery.js';
import { applyControlFrame, grantExceedsLimit } from '../hub/subscriptions.js';
import { tooManyConnections } from '../limits/limits.js';
import type { Bucket } from '../limits/token-bucket.js';
import { parseClientFrame, replyFrame } from '../protocol/client-frame.js';
import { CloseCodes } from '../protocol/close-codes.js';
import { badRequest, HttpError, unavailable } from '../protocol/errors.js';
import { parseResume, type ResumeRequest } from '../protocol/resume.js';
import type { ServerContext } from './context.js';
import {
  beginUpgrade,
  checkAuthFailures,
  noteAuthFailure,
  REQUEST_ID_HEADER,
  type RequestScope,
  scopeOf,
  tooManyAuthFailures,
} from './request-log.js';
import { rejectUpgrade } from './respond.js';
import { CONNECTION, type KeepaliveOptions, type TaggedWebSocket, WsConnection } from './ws-connection.js';

const CONNECT_ROUTE = '/v1/realtime/connect';
const SUB_ROUTE = '/v1/realtime/connect sub';

export class WsEndpoint {
  private readonly wss: WebSocketServer;
  /** The upgrade request's id and IP per connection, for the logs of its `sub` frames. */
  private readonly scopes = new WeakMap<WsConnection, RequestScope>();
  private readonly keepalive: KeepaliveOptions;
  // Handlers shared by every connection (`this` is the emitter), so a connection costs no closures.
  private readonly onSocketClose: (this: TaggedSocket) => void;
  private readonly onWsError: (this: TaggedWebSocket, err: Error) => void;
  private readonly onWsMessage: (this: RatedWebSocket, data: RawData, isBinary: boolean) => void;

  constructor(private readonly ctx: ServerContext) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: ctx.config.maxFrameBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
    // A handshake the WebSocket library refuses (bad key, version, subprotocols or method) is
    // answered in JSON like every other refusal, not with the library's text/html; the socket is
    // then closed, as the library would.
    this.wss.on('wsClientError', (err: Error, socket: Duplex, req: IncomingMessage) => {
      socket.once('finish', () => socket.destroy());
      rejectUpgrade(
        socket,
        new HttpError(req.method === 'GET' ? 400 : 405, `WebSocket handshake refused: ${err.message}`),
      );
    });
    this.wss.on('headers', (headers: string[], req: IncomingMessage) => {
      const scope = scopeOf(req);
      if (scope) headers.push(`${REQUEST_ID_HEADER}: ${scope.id}`);
    });
    const scopes = this.scopes;
    this.keepalive = {
      pingIntervalMs: ctx.config.pingIntervalSeconds * 1000,
      pongTimeoutMs: ctx.config.pongTimeoutSeconds * 1000,
      onPongTimeout: () => ctx.metrics.counts.pongTimeouts++,
    };
    this.onSocketClose = function (this: TaggedSocket) {
      // However the socket ends — a handshake the WebSocket library refuses (400, and no
      // callback), a client that vanishes — the connection leaves the hub with it.
      const conn = this[CONNECTION];
      if (conn === undefined) return;
      conn.markClosed();
      ctx.hub.remove(conn);
    };
    this.onWsError = function (this: TaggedWebSocket, err: Error) {
      ctx.log.debug({ err, conn: this[CONNECTION]?.id }, 'websocket error');
    };
    const frameRate = ctx.limits.clientFrames;
    this.onWsMessage = function (this: RatedWebSocket, data: RawData, isBinary: boolean) {
      const conn = this[CONNECTION];
      if (conn === undefined || conn.state >= ConnState.Closing) return;
      // Every frame counts, valid or not. Only clients that send frames get a bucket (Inngest's
      // clients never do).
      if (frameRate !== undefined) {
        const now = Date.now();
        let bucket = this[FRAME_BUCKET];
        if (bucket === undefined) {
          bucket = frameRate.bucket(now);
          this[FRAME_BUCKET] = bucket;
        }
        if (!frameRate.take(bucket, now)) {
          ctx.metrics.counts.clientFrameRateCloses++;
          ctx.metrics.limitRefusals.inc({ limit: 'client_frame_rate' });
          conn.close(
            CloseCodes.TooManyRequests,
            `too many client frames: more than ${frameRate.perSecond} a second`,
          );
          return;
        }
      }
      if (isBinary) {
        ctx.metrics.counts.invalidClientFrames++;
        ctx.metrics.limitRefusals.inc({ limit: 'binary_frame' });
        conn.close(CloseCodes.UnsupportedData);
        return;
      }
      const parsed = parseClientFrame(data.toString());
      if (!parsed.ok) {
        ctx.metrics.counts.invalidClientFrames++;
        ctx.log.debug({ conn: conn.id, reason: parsed.reason }, 'ignored client frame');
        return;
      }
      const frame = parsed.frame;
      const scope = scopes.get(conn);
      if (frame.kind === 'sub' && scope !== undefined) {
        // A connection is no way around the auth-failure limit: its sub frames are refused too.
        const wait = ctx.authFailures.retryAfter(scope.ip);
        if (wait > 0) {
          ctx.metrics.limitRefusals.inc({ limit: 'auth_failures' });
          conn.deliverControl(
            replyFrame('sub', frame.id, { ok: false, error: tooManyAuthFailures(wait).message }),
          );
          return;
        }
      }
      const refused = scope && ((err: unknown) => noteAuthFailure(ctx, scope, err, SUB_ROUTE));
      applyControlFrame(
        ctx.hub,
        ctx.auth,
        conn,
        frame,
        ctx.config.maxSubscriptionsPerConnection,
        refused,
      ).then(
        (reply) => conn.deliverControl(reply),
        (err) => {
          (scope?.log ?? ctx.log).error({ err, conn: conn.id }, 'control frame failed');
          conn.close(CloseCodes.InternalError);
        },
      );
    };
  }

  async upgrade(req: IncomingMessage, socket: TaggedSocket, head: Buffer, url: URL): Promise<void> {
    const { ctx } = this;
    const scope = beginUpgrade(ctx, req);
    socket.on('error', destroySocket);
    let claims: Awaited<ReturnType<typeof ctx.auth.subscriber>>;
    let resume: ResumeRequest | undefined;
    try {
      if (ctx.closing()) throw unavailable('server is shutting down; connect to another node');
      checkAuthFailures(ctx, scope);
      const release = ctx.limits.connections.acquire(ctx.limits.clientIp(req));
      if (release === undefined) {
        ctx.metrics.limitRefusals.inc({ limit: 'connections_per_ip' });
        throw tooManyConnections(ctx.limits.connections.cap);
      }
      // Counted down once, whatever way the socket ends (refused below, handshake failed, closed).
      if (ctx.limits.connections.cap > 0) socket.once('close', release);
      claims = await ctx.auth.subscriber(bearerOf(req, url));
      const tooMany = grantExceedsLimit(claims, ctx.config.maxSubscriptionsPerConnection);
      if (tooMany !== undefined) {
        ctx.metrics.limitRefusals.inc({ limit: 'subscriptions_per_connection' });
        throw badRequest(tooMany, 'token');
      }
      const since = url.searchParams.get('since');
      resume = since ? parseResume(since) : undefined;
    } catch (err) {
      noteAuthFailure(ctx, scope, err, CONNECT_ROUTE);
      scope.log.debug({ status: rejectUpgrade(socket, err, scope.id) }, 'websocket upgrade refused');
      return;
    }
    const conn = new WsConnection(
      ctx.connectionOptions(claims.env),
      socket,
      this.keepalive,
      url.searchParams.has('heartbeat'),
    );
    conn.presentedToken(claims.exp * 1000, claims.iat === undefined ? undefined : claims.iat * 1000);
    ctx.hub.add(conn);
    this.scopes.set(conn, scope);
    socket[CONNECTION] = conn;
    socket.on('close', this.onSocketClose);
    let plans: Awaited<ReturnType<typeof register>>;
    try {
      plans = await register(ctx.hub, conn, claims, resume);
    } catch (err) {
      ctx.hub.remove(conn);
      scope.log.error({ err }, 'subscribe failed');
      rejectUpgrade(socket, unavailable(`could not subscribe: ${(err as Error).message}`), scope.id);
      return;
    }
    if (socket.destroyed || ctx.closing()) {
      ctx.hub.remove(conn);
      socket.destroy();
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws: TaggedWebSocket) => {
      ws.on('error', this.onWsError);
      ws.on('message', this.onWsMessage);
      conn.attach(ws);
      if (plans.length > 0)
        recover(ctx.engine, conn, plans).catch((err: unknown) => {
          scope.log.error({ err, conn: conn.id }, 'recovery failed');
          conn.close(CloseCodes.InternalError, 'history unavailable; reconnect and resume');
        });
    });
  }

  close(): void {
    this.wss.close();
  }
}

type TaggedSocket = Duplex & { [CONNECTION]?: WsConnection };

/** Where a WebSocket that sent frames keeps its frame-rate bucket. */
const FRAME_BUCKET = Symbol('herald.frameBucket');
type RatedWebSocket = TaggedWebSocket & { [FRAME_BUCKET]?: Bucket };

function destroySocket(this: Duplex): void {
  this.destroy();
}
