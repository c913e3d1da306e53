/**
 * Sidecar mode (`--inngest-upstream`): Herald in front of an Inngest server, so that an app sets one
 * base URL. The `inngest` SDKs send all their API traffic to that one URL (function registration,
 * events, checkpoints, run output, realtime); the router keeps `/v1/realtime/*` and `/herald/*` and
 * hands everything else here, to be forwarded as it comes: any method, bodies streamed both ways
 * with backpressure and no buffering (SSE passes through event by event), status and end-to-end
 * headers kept, WebSocket upgrades tunnelled.
 *
 * The forwarding itself is httpxy's; this file is the glue HTTP asks of a proxy and Herald asks of
 * anything holding sockets:
 * - hop-by-hop headers (RFC 9110 §7.6.1: `Connection` and the headers it names, `Keep-Alive`, `TE`,
 *   `Trailer`, `Upgrade`, `Proxy-*`, and the response's `Transfer-Encoding`: framing is per hop)
 *   are dropped; `Via` is added both ways (§7.6.3), and a request that already passed this process
 *   is a loop (508), not a fork bomb;
 * - `X-Forwarded-For/-Host/-Proto` say who asked, taken from the socket unless `--trust-proxy` says
 *   the proxy in front of Herald wrote them (then its values are kept and the address appended);
 * - the Host header is the client's, as if Herald were not there (a Go server comparing a
 *   WebSocket's Origin with Host keeps working);
 * - one bound, `--inngest-upstream-timeout`: a forwarded exchange in which nothing moves either way
 *   for that long is ended. Nothing else bounds it — not Herald's body limits or body timeouts,
 *   which are for Herald's own routes — so long SSE responses and large bodies pass;
 * - errors in JSON, saying what is known: 502 when the upstream cannot be reached (nothing was
 *   forwarded) or failed before answering (it may have received the request), 504 when it did not
 *   answer in time, 408 when the client stopped sending its body. A failure after the response
 *   began cuts the connection, so the client sees a truncated response, never a complete-looking one.
 */
import { randomBytes } from 'node:crypto';
import http, { type ClientRequest, type IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createProxyServer, type ProxyServer } from 'httpxy';
import type { Config } from '../config.js';
import { clientIp } from '../limits/client-ip.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { HttpError } from '../protocol/errors.js';
import { scopeOf } from './request-log.js';
import { commonHeaders, rejectUpgrade, sendError } from './respond.js';

/** Hop-by-hop headers besides the ones `Connection` names (RFC 9110 §7.6.1). */
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'upgrade',
];
/** Framing and routing: never dropped because a client named them in `Connection`. */
const PROTECTED = new Set(['host', 'content-length', 'transfer-encoding']);
/** Connection errors that mean no byte of the request reached the upstream. */
const NOT_CONNECTED = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
]);

/** The headers `Connection` names, lower-cased. */
function connectionTokens(value: string | string[] | number | undefined): string[] {
  if (value === undefined) return [];
  return String(value)
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t !== '');
}

/** Why a forwarded exchange stalled, decided when the idle bound fires. */
class Stalled extends Error {
  constructor(
    readonly side: 'connect' | 'upstream' | 'client',
    readonly seconds: number,
  ) {
    super(`nothing moved for ${seconds} s (${side})`);
    this.name = 'Stalled';
  }
}

export class UpstreamProxy {
  /** This process as `Via` names it: a request carrying it came back round (a loop). */
  private readonly pseudonym = `herald-${randomBytes(4).toString('hex')}`;
  private readonly target: URL;
  private readonly idleMs: number;
  private readonly agent: http.Agent;
  private readonly proxy: ProxyServer;
  /** Client sockets of established WebSocket tunnels, ended at shutdown (the HTTP server does not track them). */
  private readonly tunnels = new Set<Duplex>();
  /** Upgrade sockets on which the upstream's answer (an upgrade or a refusal) is already being written. */
  private readonly answered = new WeakSet<Duplex>();

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    upstream: string,
  ) {
    this.target = new URL(upstream);
    this.idleMs = Math.round(config.inngestUpstreamTimeoutSeconds * 1000);
    const Agent = this.target.protocol === 'https:' ? https.Agent : http.Agent;
    // Upstream connections are reused across requests; their number is what is in flight at once.
    this.agent = new Agent({ keepAlive: true });
    this.proxy = createProxyServer();
    this.proxy.on('proxyReq', (proxyReq, req, res) => this.onRequest(proxyReq, req, res));
    this.proxy.on('proxyReqWs', (proxyReq, req, socket) => this.onUpgradeRequest(proxyReq, req, socket));
    this.proxy.on('proxyRes', (proxyRes, req) => this.onResponse(proxyRes, req));
    this.proxy.on('error', (err, req, res) => this.onError(err, req, res));
  }

  /** Where requests go, for the banner and the logs. */
  get upstream(): string {
    return this.target.href;
  }

  /** Forwards an HTTP request; the response (or a JSON error) is written to `res`. */
  web(req: IncomingMessage, res: ServerResponse): void {
    if (this.looped(req)) {
      commonHeaders(req, res, this.config.mode === 'dev' ? 'dev' : 'cloud');
      this.refuse(res, this.loopError());
      req.resume();
      return;
    }
    this.metrics.counts.upstreamRequests++;
    // Herald's server answered `Expect: 100-continue` already (Node sends the 100 itself); passed
    // on, the upstream would send a second one.
    delete req.headers.expect;
    void this.proxy.web(req, res, { target: this.target, agent: this.agent });
  }

  /** Forwards a WebSocket upgrade (any path outside Herald's) and tunnels the connection. */
  ws(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.looped(req)) {
      rejectUpgrade(socket, this.loopError(), scopeOf(req)?.id);
      return;
    }
    if (req.headers.upgrade?.toLowerCase() !== 'websocket') {
      rejectUpgrade(
        socket,
        new HttpError(
          400,
          `Only WebSocket upgrades are forwarded to the upstream, not "${req.headers.upgrade}"`,
        ),
        scopeOf(req)?.id,
      );
      return;
    }
    this.metrics.counts.upstreamWebSockets++;
    // A connection of its own, which becomes the tunnel: never one from the keep-alive pool.
    void this.proxy.ws(req, socket as Socket, { target: this.target, agent: false }, head);
  }

  /** Ends every WebSocket tunnel (at the start of shutdown; forwarded HTTP requests may finish). */
  endTunnels(): void {
    for (const s of this.tunnels) s.destroy();
    this.tunnels.clear();
  }

  /** Closes the upstream connections left (at the end of shutdown). */
  close(): void {
    this.endTunnels();
    this.agent.destroy();
  }

  private looped(req: IncomingMessage): boolean {
    const via = req.headers.via;
    return typeof via === 'string' && via.includes(this.pseudonym);
  }

  private loopError(): HttpError {
    return new HttpError(
      508,
      `Loop detected: the request came back to this Herald through --inngest-upstream ${this.target.href}; point it at the Inngest server, not at Herald`,
    );
  }

  /** Request headers as the upstream should see them (shared by HTTP and upgrades). */
  private rewriteRequestHeaders(proxyReq: ClientRequest, req: IncomingMessage, upgrade: boolean): void {
    const named = connectionTokens(req.headers.connection);
    for (const h of [...HOP_BY_HOP, ...named])
      if (!PROTECTED.has(h) && proxyReq.hasHeader(h)) proxyReq.removeHeader(h);
    if (upgrade) {
      proxyReq.setHeader('Connection', 'Upgrade');
      proxyReq.setHeader('Upgrade', req.headers.upgrade ?? 'websocket');
    } else if (proxyReq.hasHeader('transfer-encoding')) {
      // A chunked body is re-chunked by Node on the way out; the connection is not reused after it
      // (what httpxy does too), so a framing disagreement cannot reach the next request.
      proxyReq.setHeader('Connection', 'close');
    }
    const trusted = this.config.trustProxy;
    const from = clientIp(req, false);
    const priorFor = req.headers['x-forwarded-for'];
    proxyReq.setHeader('X-Forwarded-For', trusted && priorFor ? `${priorFor}, ${from}` : from);
    const priorProto = req.headers['x-forwarded-proto'];
    proxyReq.setHeader('X-Forwarded-Proto', trusted && typeof priorProto === 'string' ? priorProto : 'http');
    const priorHost = req.headers['x-forwarded-host'];
    const host = trusted && typeof priorHost === 'string' ? priorHost : req.headers.host;
    if (host === undefined) proxyReq.removeHeader('X-Forwarded-Host');
    else proxyReq.setHeader('X-Forwarded-Host', host);
    // What a client claims about proxies before Herald is only kept when they are trusted.
    if (!trusted) proxyReq.removeHeader('Forwarded');
    const via = req.headers.via;
    proxyReq.setHeader('Via', `${via ? `${via}, ` : ''}1.1 ${this.pseudonym}`);
  }

  private onRequest(proxyReq: ClientRequest, req: IncomingMessage, res: ServerResponse): void {
    this.rewriteRequestHeaders(proxyReq, req, false);
    if (this.idleMs <= 0) return;
    // A socket timeout: it fires after `idleMs` without a byte read or written on the upstream
    // connection, which is where both directions pass.
    proxyReq.setTimeout(this.idleMs, () => {
      const seconds = this.config.inngestUpstreamTimeoutSeconds;
      const socket = proxyReq.socket;
      let side: Stalled['side'] = 'upstream';
      if (socket?.connecting) side = 'connect';
      else if (!res.headersSent && !req.complete && proxyReq.writableLength === 0 && !socket?.writableLength)
        side = 'client'; // everything the client sent was passed on; it sent nothing more
      proxyReq.destroy(new Stalled(side, seconds));
    });
  }

  private onUpgradeRequest(proxyReq: ClientRequest, req: IncomingMessage, socket: Socket): void {
    this.rewriteRequestHeaders(proxyReq, req, true);
    const seconds = this.config.inngestUpstreamTimeoutSeconds;
    if (this.idleMs > 0)
      proxyReq.setTimeout(this.idleMs, () =>
        proxyReq.destroy(new Stalled(proxyReq.socket?.connecting ? 'connect' : 'upstream', seconds)),
      );
    proxyReq.once('response', () => this.answered.add(socket));
    proxyReq.once('upgrade', (_res, upstreamSocket: Socket) => {
      this.answered.add(socket);
      this.tunnels.add(socket);
      socket.once('close', () => {
        this.tunnels.delete(socket);
        upstreamSocket.destroy();
      });
      upstreamSocket.once('close', () => socket.destroy());
      // Every byte of the tunnel is read from or written to the client's socket, so its timeout is
      // the tunnel's idle bound (WebSocket pings count as traffic).
      if (this.idleMs > 0) socket.setTimeout(this.idleMs, () => socket.destroy());
    });
  }

  private onResponse(proxyRes: IncomingMessage, req: IncomingMessage): void {
    const headers = proxyRes.headers;
    for (const h of [...HOP_BY_HOP, ...connectionTokens(headers.connection), 'transfer-encoding'])
      if (h !== 'content-length') delete headers[h];
    headers.via = `${headers.via ? `${headers.via}, ` : ''}1.1 ${this.pseudonym}`;
    // This hop's own answer to the client's Connection header (httpxy would echo the header whole,
    // with whatever hop-by-hop names it lists).
    if (req.httpVersion !== '1.0')
      headers.connection = connectionTokens(req.headers.connection).includes('close')
        ? 'close'
        : 'keep-alive';
  }

  /** The JSON answer for a failure before the upstream's response began. */
  private errorFor(err: NodeJS.ErrnoException): HttpError {
    const up = this.target.href;
    const flag = '--inngest-upstream-timeout';
    if (err instanceof Stalled) {
      if (err.side === 'client')
        return new HttpError(
          408,
          `The request body stopped arriving: nothing for ${err.seconds} s (${flag}); the upstream got an incomplete request`,
        );
      if (err.side === 'connect')
        return new HttpError(
          504,
          `Gateway timeout: no connection to the Inngest server at ${up} within ${err.seconds} s (${flag}); nothing was forwarded`,
        );
      return new HttpError(
        504,
        `Gateway timeout: the Inngest server at ${up} did not answer within ${err.seconds} s (${flag}); it may still act on the request`,
      );
    }
    const code = err.code ?? err.message;
    if (err.code !== undefined && NOT_CONNECTED.has(err.code))
      return new HttpError(
        502,
        `Bad gateway: the Inngest server at ${up} could not be reached (${code}); nothing was forwarded. Is it running?`,
      );
    return new HttpError(
      502,
      `Bad gateway: the connection to the Inngest server at ${up} failed before it answered (${code}); it may have received the request`,
    );
  }

  /** The answer to a failure before the upstream's response, logged once. */
  private failure(err: Error, log: Logger, path: string | undefined): HttpError {
    const e = this.errorFor(err);
    log.warn({ path, upstream: this.target.href, status: e.status, error: err.message }, 'forwarding failed');
    return e;
  }

  private refuse(res: ServerResponse, e: HttpError): void {
    sendError(res, e);
    this.metrics.httpErrors.inc({ route: 'upstream', status: e.status });
  }

  private onError(
    err: Error,
    req: IncomingMessage | undefined,
    res: ServerResponse | Duplex | undefined,
  ): void {
    const scope = req === undefined ? undefined : scopeOf(req);
    const log = scope?.log ?? this.log;
    const path = req?.url?.split('?')[0];
    if (res === undefined) return;
    if (res instanceof ServerResponse) {
      if (res.headersSent || res.destroyed) {
        // Mid-response, or the client left: a cut connection is the only honest answer.
        log.debug({ err, path }, 'forwarded response ended early');
        res.destroy();
        return;
      }
      const e = this.failure(err, log, path);
      commonHeaders(req as IncomingMessage, res, this.config.mode === 'dev' ? 'dev' : 'cloud');
      // After a stalled body, whatever the client still sends has nowhere to go.
      if (e.status === 408 || (req !== undefined && !req.complete)) res.setHeader('Connection', 'close');
      this.refuse(res, e);
      return;
    }
    // An upgrade: answer in JSON unless the upstream's answer (or the tunnel) already owns the socket.
    if (this.answered.has(res) || !res.writable) {
      log.debug({ err, path }, 'forwarded WebSocket ended');
      res.destroy();
      return;
    }
    const e = this.failure(err, log, path);
    rejectUpgrade(res, e, scope?.id);
    this.metrics.httpErrors.inc({ route: 'upstream', status: e.status });
  }
}
