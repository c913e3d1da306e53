/**
 * The composition root: builds auth, engine, hub, publisher and transports from a Config, and owns
 * startup and graceful shutdown. Nothing else constructs these.
 */
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Authenticator } from './auth/authenticate.js';
import { AuthFailureLimiter } from './auth/failure-limiter.js';
import { assertValidSigningKey, SigningKeys } from './auth/signing-key.js';
import { TokenIssuer } from './auth/token.js';
import type { Config } from './config.js';
import type { Engine } from './engine/engine.js';
import { MemoryEngine } from './engine/memory.js';
import { RedisEngine } from './engine/redis.js';
import type { Connection, ConnectionOptions } from './hub/connection.js';
import { Hub } from './hub/hub.js';
import { enforceTokenExpiry } from './hub/token-expiry.js';
import { WriteScheduler } from './hub/write-scheduler.js';
import { createLimits } from './limits/limits.js';
import { createLogger, type Logger } from './log.js';
import { Metrics } from './metrics.js';
import { CloseCodes } from './protocol/close-codes.js';
import { badRequest, notFound } from './protocol/errors.js';
import { closingFrame } from './protocol/message.js';
import { Publisher } from './protocol/publisher.js';
import { addAcceptHandles } from './transport/accept-handles.js';
import { answerClientError, clientErrorKind } from './transport/client-error.js';
import type { ServerContext } from './transport/context.js';
import { createExpectationListener, createRequestListener, heraldPath } from './transport/http-routes.js';
import { beginUpgrade } from './transport/request-log.js';
import { INVALID_TARGET, requestUrl } from './transport/request-url.js';
import { rejectUpgrade } from './transport/respond.js';
import { UpstreamProxy } from './transport/upstream-proxy.js';
import { WsEndpoint } from './transport/ws-endpoint.js';

/** The JWT secret Inngest's dev server uses; Herald's dev mode uses it too when no key is set. */
export const DEV_JWT_SECRET = 'dev-mode-is-not-secret';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface Herald {
  readonly url: string;
  readonly port: number;
  readonly hub: Hub;
  readonly engine: Engine;
  readonly config: Config;
  /** Sidecar mode: the Inngest server that requests outside Herald's routes are forwarded to. */
  readonly upstream: string | undefined;
  /** Graceful shutdown: `closing` frame, close 1001, wait up to the grace period, then force. */
  close(): Promise<void>;
}

function jwtSecretOf(config: Config): string {
  if (config.jwtSecret) return config.jwtSecret;
  // Derived, so every node sharing the signing key verifies every other node's tokens.
  if (config.signingKey)
    return createHmac('sha256', config.signingKey).update('herald subscription tokens v1').digest('hex');
  return DEV_JWT_SECRET;
}

/** Checks what a server cannot run without; throws ConfigError saying what to pass. */
export function checkConfig(config: Config): void {
  if (config.mode === 'start' && !config.signingKey)
    throw new ConfigError(
      'herald start needs a signing key: pass --signing-key <hex> or set INNGEST_SIGNING_KEY ' +
        '(make one with: openssl rand -hex 32). For local development without auth, run: herald dev',
    );
  try {
    if (config.signingKey) assertValidSigningKey('--signing-key', config.signingKey);
    if (config.signingKeyFallback) assertValidSigningKey('--signing-key-fallback', config.signingKeyFallback);
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
}

function createEngine(config: Config): Engine {
  const bounds = {
    historySize: config.historySize,
    historyTtlMs: config.historyTtlSeconds * 1000,
    idempotencyWindowMs: config.idempotencyWindowSeconds * 1000,
  };
  if (config.redisUrl)
    return new RedisEngine({ url: config.redisUrl, prefix: config.redisPrefix, ...bounds });
  return new MemoryEngine(bounds);
}

export async function startHerald(
  config: Config,
  log: Logger = createLogger(config.logLevel),
): Promise<Herald> {
  checkConfig(config);
  const engine = createEngine(config);
  const hub = new Hub(engine, (c, err) =>
    log.error({ err, conn: c.id }, 'delivery failed; connection closed'),
  );
  const metrics = new Metrics(hub, engine.name);
  const tokens = new TokenIssuer(jwtSecretOf(config));
  const auth = new Authenticator(new SigningKeys([config.signingKey, config.signingKeyFallback]), tokens);
  const byKind = new Map<string, { published: { inc(): void }; seconds: { observe(v: number): void } }>();
  const publisher = new Publisher(engine, config, {
    accepted(kind, seconds) {
      // Children bound once per kind: no label hashing per publish.
      let m = byKind.get(kind);
      if (m === undefined) {
        m = {
          published: metrics.published.labels({ kind }),
          seconds: metrics.publishSeconds.labels({ kind }),
        };
        byKind.set(kind, m);
      }
      m.published.inc();
      m.seconds.observe(seconds);
    },
  });
  const scheduler = new WriteScheduler();
  scheduler.start();
  let shuttingDown = false;
  const counts = metrics.counts;
  const optionsByEnv = new Map<string, ConnectionOptions>();
  const onSlowConsumer = (c: Connection) => {
    counts.slowConsumers++;
    log.warn({ conn: c.id, transport: c.transport }, 'slow consumer disconnected (4008)');
  };
  const upstream =
    config.inngestUpstream === undefined
      ? undefined
      : new UpstreamProxy(config, log, metrics, config.inngestUpstream);
  const onWritten = (messages: number, bytes: number) => {
    counts.delivered += messages;
    counts.deliveredBytes += bytes;
  };
  const ctx: ServerContext = {
    config,
    auth,
    authFailures: new AuthFailureLimiter(config.authFailureLimit),
    tokens,
    engine,
    hub,
    publisher,
    metrics,
    limits: createLimits(config),
    log,
    upstream,
    closing: () => shuttingDown,
    // One options object per env, shared by that env's connections.
    connectionOptions: (env) => {
      let o = optionsByEnv.get(env);
      if (o === undefined) {
        o = { env, sendQueueBytes: config.sendQueueBytes, scheduler, onSlowConsumer, onWritten };
        optionsByEnv.set(env, o);
      }
      return o;
    },
  };

  try {
    await engine.start(hub);
  } catch (err) {
    await engine.close();
    throw new ConfigError((err as Error).message);
  }
  const ws = new WsEndpoint(ctx);
  const headersTimeoutMs = Math.round(config.headersTimeoutSeconds * 1000);
  const server: Server = createServer(
    {
      keepAliveTimeout: 65_000,
      // Node's default (300 s for a whole request) would cut long text/stream publishes, which may
      // run for many minutes; bodies are timed by the routes instead (--body-timeout for buffered
      // bodies, --stream-idle-timeout for streamed ones).
      requestTimeout: 0,
      headersTimeout: headersTimeoutMs,
      // How often Node looks for requests past headersTimeout (its default, 30 s, would let a
      // trickled head live three times longer than configured). It only visits requests in progress.
      connectionsCheckingInterval: Math.min(5_000, Math.max(250, Math.round(headersTimeoutMs / 4))),
      maxHeaderSize: config.maxHeaderBytes,
      // Node refuses an HTTP/1.1 request without Host by itself, with an empty 400; the router
      // refuses it instead, in JSON.
      requireHostHeader: false,
    },
    createRequestListener(ctx),
  );
  server.on('checkExpectation', createExpectationListener(ctx));
  server.on('upgrade', (req, socket, head) => {
    const url = requestUrl(req);
    const path = url && heraldPath(url.pathname, upstream !== undefined);
    if (url !== undefined && path === undefined && upstream !== undefined) {
      beginUpgrade(ctx, req);
      upstream.ws(req, socket, head);
      return;
    }
    if (url === undefined || path !== '/v1/realtime/connect') {
      rejectUpgrade(
        socket,
        url ? notFound(`no WebSocket endpoint at ${url.pathname}`) : badRequest(INVALID_TARGET),
      );
      return;
    }
    url.pathname = path;
    ws.upgrade(req, socket, head, url).catch((err: unknown) => {
      log.error({ err }, 'upgrade failed');
      socket.destroy();
    });
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    const kind = clientErrorKind(err.code);
    if (kind === 'header_size' || kind === 'header_timeout') metrics.limitRefusals.inc({ limit: kind });
    log.debug({ code: err.code }, 'client error');
    answerClientError(socket, kind);
  });

  // One timer drives every connection's keepalive. It ticks often (at most every 250 ms) and each
  // connection's first ping is jittered over the interval, so pings to thousands of connections that
  // arrived together go out a few at a time instead of in one burst that stalls delivery.
  const tickMs = Math.max(
    50,
    Math.min(250, (Math.min(config.pingIntervalSeconds, config.pongTimeoutSeconds) * 1000) / 2),
  );
  const keepalive = setInterval(() => {
    const now = Date.now();
    for (const c of hub.connections) {
      c.keepalive(now);
      if (config.enforceTokenExpiry) enforceTokenExpiry(c, now);
    }
  }, tickMs);
  keepalive.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const acceptHandles = await addAcceptHandles(server, config.acceptHandles, (err) =>
    log.warn({ err }, 'extra accept handles: going on with fewer'),
  );
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      shuttingDown = true;
      clearInterval(keepalive);
      const serverClosed = Promise.all([
        new Promise<void>((resolve) => server.close(() => resolve())),
        acceptHandles.close(),
      ]);
      server.closeIdleConnections();
      // Forwarded WebSockets are opaque tunnels (no frame of ours can be said in them): they end now,
      // and their clients reconnect as they would after the upstream restarted.
      upstream?.endTunnels();
      const frame = closingFrame();
      for (const c of hub.connections) {
        c.deliverControl(frame);
        c.close(CloseCodes.GoingAway);
      }
      let serverDone = false;
      serverClosed.then(() => {
        serverDone = true;
      });
      const drained = (async () => {
        // Sockets that go idle while draining (an SSE response that ended, a publish that finished)
        // are closed as they do; left alone they would hold the server until their keep-alive ends.
        while (hub.connections.size > 0 || !serverDone) {
          server.closeIdleConnections();
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((r) => {
        timer = setTimeout(r, config.shutdownGraceSeconds * 1000);
      });
      await Promise.race([drained, grace]);
      clearTimeout(timer);
      // Past the grace period, whatever is left is cut.
      for (const c of hub.connections) c.terminate();
      server.closeAllConnections();
      ws.close();
      upstream?.close();
      scheduler.stop();
      await engine.close();
    })();
    return closed;
  };

  if (upstream !== undefined)
    log.info({ upstream: upstream.upstream }, 'sidecar mode: forwarding to the Inngest server');
  return { url, port, hub, engine, config, upstream: upstream?.upstream, close };
}
