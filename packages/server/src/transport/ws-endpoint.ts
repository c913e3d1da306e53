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
import { parseClientFrame } from '../protocol/client-frame.js';
import { CloseCodes } from '../protocol/close-codes.js';
import { badRequest, HttpError, unavailable } from '../protocol/errors.js';
import { parseResume, type ResumeRequest } from '../protocol/resume.js';
import type { ServerContext } from './context.js';
import { rejectUpgrade } from './respond.js';
import { CONNECTION, type KeepaliveOptions, type TaggedWebSocket, WsConnection } from './ws-connection.js';

export class WsEndpoint {
  private readonly wss: WebSocketServer;
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
      applyControlFrame(ctx.hub, ctx.auth, conn, parsed.frame, ctx.config.maxSubscriptionsPerConnection).then(
        (reply) => conn.deliverControl(reply),
        (err) => {
          ctx.log.error({ err }, 'control frame failed');
          conn.close(CloseCodes.InternalError);
        },
      );
    };
  }

  async upgrade(req: IncomingMessage, socket: TaggedSocket, head: Buffer, url: URL): Promise<void> {
    const { ctx } = this;
    socket.on('error', destroySocket);
    let claims: Awaited<ReturnType<typeof ctx.auth.subscriber>>;
    let resume: ResumeRequest | undefined;
    try {
      if (ctx.closing()) throw unavailable('server is shutting down; connect to another node');
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
      rejectUpgrade(socket, err);
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
    socket[CONNECTION] = conn;
    socket.on('close', this.onSocketClose);
    let plans: Awaited<ReturnType<typeof register>>;
    try {
      plans = await register(ctx.hub, conn, claims, resume);
    } catch (err) {
      ctx.hub.remove(conn);
      ctx.log.error({ err }, 'subscribe failed');
      rejectUpgrade(socket, unavailable(`could not subscribe: ${(err as Error).message}`));
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
          ctx.log.error({ err, conn: conn.id }, 'recovery failed');
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
