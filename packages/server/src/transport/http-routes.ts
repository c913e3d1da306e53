/**
 * The HTTP surface: Inngest's realtime endpoints at the origin root (§0.1), plus `/health`,
 * `/metrics`, `/dev`, the admin API and the inspector (`/`, `/assets/…`), all of which are also
 * served under `/herald/`. In sidecar mode (`--inngest-upstream`) Herald keeps only `/v1/realtime/*`
 * at the root and the rest of its routes under `/herald/`; every other request is forwarded to the
 * Inngest server. Handlers only translate HTTP to calls on auth, the publisher and the hub.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AuthError, bearerOf } from '../auth/authenticate.js';
import { EngineUnavailableError } from '../engine/engine.js';
import { publisherKey } from '../limits/limits.js';
import {
  badRequest,
  HttpError,
  notFound,
  requestTimeout,
  tooManyRequests,
  unavailable,
} from '../protocol/errors.js';
import { parseTopicList, splitChannelKey } from '../protocol/topic.js';
import { discardRest, readBody, StreamedBody } from './body.js';
import type { ServerContext } from './context.js';
import {
  ASSETS_PREFIX,
  MISSING_BUILD_NOTICE,
  sendInspectorAsset,
  sendInspectorPage,
} from './inspector-assets.js';
import { AUTH_ROUTES, beginRequest, checkAuthFailures, noteAuthFailure } from './request-log.js';
import { INVALID_TARGET, requestUrl } from './request-url.js';
import { commonHeaders, preflight, sendError, sendJson } from './respond.js';
import { handleSse } from './sse-endpoint.js';
import { statusPage } from './status-page.js';

/**
 * Herald's routes are also served under this prefix, and in sidecar mode only there — except the
 * realtime API, which clients address at the origin root: `/herald/` is the inspector, then
 * `/herald/health`, `/herald/metrics`, `/herald/dev`, `/herald/v1/admin/stats`.
 */
export const HERALD_PREFIX = '/herald';
const REALTIME_PREFIX = '/v1/realtime/';

/**
 * The path a request addresses among Herald's routes (`/herald/health` → `/health`), or undefined
 * when, in sidecar mode, it belongs to the upstream.
 */
export function heraldPath(pathname: string, sidecar: boolean): string | undefined {
  if (pathname.startsWith(`${HERALD_PREFIX}/`)) return pathname.slice(HERALD_PREFIX.length);
  if (!sidecar || pathname.startsWith(REALTIME_PREFIX) || pathname === HERALD_PREFIX) return pathname;
  return undefined;
}

type Handler = (ctx: ServerContext, req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

/** Largest `/token` body: a list of topics is small. */
const MAX_TOKEN_BODY = 64 * 1024;

/** `text/stream` (parameters allowed) selects the datastream mode of `/publish`. */
function isStream(req: IncomingMessage): boolean {
  const ct = req.headers['content-type'];
  return typeof ct === 'string' && ct.split(';')[0]?.trim().toLowerCase() === 'text/stream';
}

/** A whole body within `limit` bytes (413) and `--body-timeout` (408, the connection is closed). */
async function bufferedBody(ctx: ServerContext, req: IncomingMessage, limit: number): Promise<Buffer> {
  try {
    return await readBody(req, limit, ctx.config.bodyTimeoutSeconds * 1000);
  } catch (err) {
    if (err instanceof HttpError && err.status === 408)
      ctx.metrics.limitRefusals.inc({ limit: 'body_timeout' });
    throw err;
  }
}

const token: Handler = async (ctx, req, res, url) => {
  const principal = await ctx.auth.minter(bearerOf(req, url));
  const raw = await bufferedBody(ctx, req, Math.min(MAX_TOKEN_BODY, ctx.config.maxBodyBytes));
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw badRequest('Invalid request: the body must be a JSON array of topics', 'body');
  }
  const parsed = parseTopicList(body, principal.env, ctx.config);
  if ('error' in parsed) throw badRequest(parsed.error, parsed.field);
  const jwt = await ctx.tokens.mint({
    env: principal.env,
    topics: parsed.topics,
    ttlSeconds: ctx.config.tokenTtlSeconds,
  });
  sendJson(res, 201, { jwt });
};

type PublishPrincipal = Awaited<ReturnType<ServerContext['auth']['publisher']>>;

function publisherEnv(p: PublishPrincipal): string {
  return p.kind === 'token' ? p.claims.env : p.env;
}

/** `--publish-rate`: 429 before anything of the body is read, so nothing is half-published. */
function spendPublish(ctx: ServerContext, req: IncomingMessage, principal: PublishPrincipal): void {
  const limiter = ctx.limits.publishRate;
  if (limiter === undefined) return;
  const decision = limiter.take(publisherKey(principal, ctx.limits.clientIp(req)), Date.now());
  if (decision.ok) return;
  ctx.metrics.limitRefusals.inc({ limit: 'publish_rate' });
  throw tooManyRequests(
    `publish rate exceeded: at most ${limiter.rate.perSecond} publishes a second per publisher (--publish-rate); nothing was published`,
    decision.retryAfterSeconds,
  );
}

/** A streamed body for `req`, ended by `--stream-idle-timeout`. */
const streamedBody = (ctx: ServerContext, req: IncomingMessage): StreamedBody =>
  new StreamedBody(req, ctx.config.streamIdleTimeoutSeconds * 1000);

/** The 408 for a streamed body that went quiet: what was published is ended, and said. */
function streamIdle(ctx: ServerContext, what: string, ack: object): HttpError {
  ctx.metrics.limitRefusals.inc({ limit: 'stream_idle_timeout' });
  return requestTimeout(
    `${what} sent nothing for ${ctx.config.streamIdleTimeoutSeconds} s (--stream-idle-timeout); it was ended there`,
    { truncated: true, reason: 'idle', ...ack },
  );
}

const publish: Handler = async (ctx, req, res, url) => {
  const principal = await ctx.auth.publisher(bearerOf(req, url));
  const q = url.searchParams;
  const target = {
    env: publisherEnv(principal),
    channel: q.get('channel'),
    topic: q.get('topic'),
    kind: q.get('kind'),
    runId: q.get('run_id'),
    metadata: q.get('metadata'),
    idempotencyKey: (req.headers['idempotency-key'] as string | undefined) ?? null,
  };
  // Names are checked before anything of the body is read.
  const valid = ctx.publisher.validate(target);
  spendPublish(ctx, req, principal);
  if (valid.kind === 'run') {
    if (isStream(req))
      throw badRequest(
        'a run frame is one JSON object: send it as application/json, not text/stream (which publishes a datastream)',
        'kind',
      );
    const body = await bufferedBody(ctx, req, ctx.config.maxBodyBytes);
    sendJson(res, 200, await ctx.publisher.run(valid, body));
    return;
  }
  if (isStream(req)) {
    const body = streamedBody(ctx, req);
    const ack = await ctx.publisher.stream(valid, body);
    // Subscribers got datastream-end, as on every other cut.
    if (body.idled) throw streamIdle(ctx, 'the text/stream body', ack);
    sendJson(res, 200, ack);
    return;
  }
  const body = await bufferedBody(ctx, req, ctx.config.maxBodyBytes);
  const ack = await ctx.publisher.message(valid, body);
  sendJson(res, 200, ack);
};

const tee: Handler = async (ctx, req, res, url) => {
  const principal = await ctx.auth.publisher(bearerOf(req, url));
  spendPublish(ctx, req, principal);
  const body = streamedBody(ctx, req);
  const result = await ctx.publisher.tee(publisherEnv(principal), url.searchParams.get('channel'), body);
  if (body.idled) throw streamIdle(ctx, 'the tee body', result);
  sendJson(res, 200, result);
};

const connectWithoutUpgrade: Handler = async (ctx, req, res, url) => {
  await ctx.auth.subscriber(bearerOf(req, url));
  sendJson(res, 426, {
    error: 'Upgrade Required: connect with a WebSocket client (Connection: Upgrade, Upgrade: websocket)',
    status: 426,
  });
};

const health: Handler = async (ctx, _req, res) => {
  const engine = ctx.engine.health();
  const stats = ctx.hub.stats();
  sendJson(res, engine.ok && !ctx.closing() ? 200 : 503, {
    status: ctx.closing() ? 'shutting-down' : engine.ok ? 'ok' : 'degraded',
    mode: ctx.config.mode,
    engine,
    ...stats,
    uptimeSeconds: Math.round(process.uptime()),
  });
};

const metrics: Handler = async (ctx, _req, res) => {
  const text = await ctx.metrics.registry.metrics();
  res.writeHead(200, { 'Content-Type': ctx.metrics.registry.contentType });
  res.end(text);
};

// The inngest v3 SDK probes GET /dev for a JSON body to detect a dev server (§0.1).
const dev: Handler = async (ctx, _req, res) => {
  sendJson(res, 200, {
    name: 'herald',
    isDevServer: ctx.config.mode === 'dev',
    mode: ctx.config.mode,
    features: { realtime: true, history: true },
  });
};

// The inspector; without its build, a status page that says how to build it.
const root: Handler = async (ctx, _req, res) => {
  if (await sendInspectorPage(res)) return;
  const html = statusPage(ctx, MISSING_BUILD_NOTICE);
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end(html);
};

const inspectorAssets: Record<string, Handler> = {
  GET: async (_ctx, _req, res, url) => sendInspectorAsset(res, url.pathname),
};

/**
 * `GET /v1/admin/stats`: what the inspector shows — connections, subscriptions, channels with
 * their subscribers and counts. Open in dev mode (without a key); needs the signing key otherwise.
 */
const adminStats: Handler = async (ctx, req, res, url) => {
  ctx.auth.admin(bearerOf(req, url), ctx.config.mode === 'dev');
  const byTransport = { ws: 0, sse: 0 };
  for (const c of ctx.hub.connections) byTransport[c.transport]++;
  const limit = Math.min(Number(url.searchParams.get('limit') ?? 200) || 200, 1000);
  const channels = ctx.hub
    .channelStats()
    .sort((a, b) => b.subscribers - a.subscribers)
    .slice(0, limit)
    .map(({ channelKey: key, ...rest }) => ({ ...splitChannelKey(key), ...rest }));
  const c = ctx.metrics.counts;
  sendJson(res, 200, {
    mode: ctx.config.mode,
    engine: ctx.engine.health(),
    uptimeSeconds: Math.round(process.uptime()),
    auth: ctx.auth.open ? 'off' : 'signing-key',
    ...ctx.hub.stats(),
    transports: byTransport,
    delivered: { messages: c.delivered, bytes: c.deliveredBytes },
    published: ctx.publisher.accepted,
    slowConsumerDisconnects: c.slowConsumers,
    history: { size: ctx.config.historySize, ttlSeconds: ctx.config.historyTtlSeconds },
    channelList: channels,
    now: new Date().toISOString(),
  });
};

const routes: Record<string, Record<string, Handler>> = {
  '/v1/admin/stats': { GET: adminStats },
  '/v1/realtime/token': { POST: token },
  '/v1/realtime/publish': { POST: publish },
  '/v1/realtime/publish/tee': { POST: tee },
  '/v1/realtime/sse': { GET: handleSse },
  '/v1/realtime/connect': { GET: connectWithoutUpgrade },
  '/health': { GET: health },
  '/metrics': { GET: metrics },
  '/dev': { GET: dev },
  '/': { GET: root },
};

/**
 * Node answers a request whose `Expect` is anything but `100-continue` by itself, with an empty 417,
 * unless the server listens for `checkExpectation`: this listener answers the same status in JSON.
 */
export function createExpectationListener(ctx: ServerContext) {
  const serverKind = ctx.config.mode === 'dev' ? 'dev' : 'cloud';
  return (req: IncomingMessage, res: ServerResponse): void => {
    commonHeaders(req, res, serverKind);
    sendError(
      res,
      new HttpError(417, 'Expectation Failed: the only Expect value Herald supports is 100-continue'),
    );
  };
}

export function createRequestListener(ctx: ServerContext) {
  const serverKind = ctx.config.mode === 'dev' ? 'dev' : 'cloud';
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = requestUrl(req);
    const scope = beginRequest(ctx, req, res);
    if (url === undefined) {
      commonHeaders(req, res, serverKind);
      sendError(res, badRequest(INVALID_TARGET));
      return;
    }
    // RFC 9112 §3.2: an HTTP/1.1 request without Host is refused with 400.
    if (req.headers.host === undefined && req.httpVersion === '1.1') {
      commonHeaders(req, res, serverKind);
      sendError(res, badRequest('Bad request: an HTTP/1.1 request needs a Host header'));
      return;
    }
    const path = heraldPath(url.pathname, ctx.upstream !== undefined);
    if (path === undefined) {
      // The upstream's: its own headers (CORS included), its own limits.
      ctx.upstream?.web(req, res);
      return;
    }
    commonHeaders(req, res, serverKind);
    if (path === HERALD_PREFIX) {
      // The inspector's files are relative to its page, so the page must end with a slash.
      res.writeHead(308, { Location: `${HERALD_PREFIX}/${url.search}`, 'Content-Length': 0 }).end();
      discardRest(req);
      return;
    }
    url.pathname = path;
    if (req.method === 'OPTIONS') {
      preflight(req, res);
      return;
    }
    const route =
      routes[url.pathname] ?? (url.pathname.startsWith(ASSETS_PREFIX) ? inspectorAssets : undefined);
    const handler = route?.[req.method ?? 'GET'];
    const run = async () => {
      if (route === undefined) throw notFound(`no route for ${url.pathname}`);
      if (handler === undefined)
        throw new HttpError(
          405,
          `${req.method} is not allowed on ${url.pathname}; use ${Object.keys(route).join(', ')}`,
        );
      if (AUTH_ROUTES.has(url.pathname)) checkAuthFailures(ctx, scope);
      await handler(ctx, req, res, url);
    };
    // An answer sent before the body ended (a route that reads none, a refusal): Node would read the
    // rest for as long as the client trickles it (its request timeout is off, see server.ts), so
    // the rest is read within bounds and the connection dropped past them (`discardRest`).
    const settled = () => discardRest(req);
    run().then(settled, (err: unknown) => {
      if (err instanceof EngineUnavailableError) err = unavailable(err.message);
      if (!(err instanceof HttpError)) {
        // A client that went away mid-request (a publisher that died mid-stream) is not a server fault.
        const clientGone = (err as NodeJS.ErrnoException).code === 'ECONNRESET' && req.destroyed;
        if (clientGone) scope.log.info({ path: url.pathname }, 'client went away mid-request');
        else scope.log.error({ err, path: url.pathname }, 'request failed');
      } else if (err instanceof AuthError) noteAuthFailure(ctx, scope, err, url.pathname);
      else if (err.status >= 500)
        scope.log.warn({ path: url.pathname, status: err.status, error: err.message }, 'request failed');
      else if (err.status !== 404 && err.status !== 429)
        scope.log.info({ path: url.pathname, status: err.status, error: err.message }, 'request refused');
      const status = err instanceof HttpError ? err.status : 500;
      sendError(res, err);
      // The body was not read to its end: discard the rest (bounded), so the client gets the answer;
      // after a 408 the connection is closed instead.
      if (status !== 408) discardRest(req);
      ctx.metrics.httpErrors.inc({ route: route === undefined ? 'unknown' : url.pathname, status });
    });
  };
}
