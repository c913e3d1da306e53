/**
 * `GET /v1/realtime/connect`: WebSocket subscriptions. Authenticates the token, registers every
 * topic it grants, and only then completes the upgrade, so nothing published after the client sees
 * `open` can be missed (F5). Client frames (`sub`, `unsub`) are answered; malformed ones are
 * ignored and counted.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, WebSocketServer } from 'ws';
import { bearerOf } from '../auth/authenticate.js';
import { recover, register } from '../hub/recovery.js';
import { applyControlFrame } from '../hub/subscriptions.js';
import { parseClientFrame } from '../protocol/client-frame.js';
import { CloseCodes } from '../protocol/close-codes.js';
import { unavailable } from '../protocol/errors.js';
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
  private readonly onWsMessage: (this: TaggedWebSocket, data: RawData, isBinary: boolean) => void;

  constructor(private readonly ctx: ServerContext) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: ctx.config.maxFrameBytes,
      perMessageDeflate: false,
      clientTracking: false,
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
    this.onWsMessage = function (this: TaggedWebSocket, data: RawData, isBinary: boolean) {
      const conn = this[CONNECTION];
      if (conn === undefined) return;
      if (isBinary) {
        ctx.metrics.counts.invalidClientFrames++;
        return;
      }
      const parsed = parseClientFrame(data.toString());
      if (!parsed.ok) {
        ctx.metrics.counts.invalidClientFrames++;
        ctx.log.debug({ conn: conn.id, reason: parsed.reason }, 'ignored client frame');
        return;
      }
      applyControlFrame(ctx.hub, ctx.auth, conn, parsed.frame).then(
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
      claims = await ctx.auth.subscriber(bearerOf(req, url));
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

function destroySocket(this: Duplex): void {
  this.destroy();
}
