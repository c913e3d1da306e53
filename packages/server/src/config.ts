/**
 * Herald's configuration: one typed table of options, each with its flag, environment variables,
 * default and unit. `herald --help` and the table in docs/operations.md are produced from it
 * (`configTable()`; a test checks the docs), so they cannot drift.
 */

export type Mode = 'dev' | 'start';

export interface Config {
  mode: Mode;
  port: number;
  host: string;
  acceptHandles: number;
  signingKey: string | undefined;
  signingKeyFallback: string | undefined;
  jwtSecret: string | undefined;
  tokenTtlSeconds: number;
  historySize: number;
  historyTtlSeconds: number;
  idempotencyWindowSeconds: number;
  maxBodyBytes: number;
  maxStreamBytes: number;
  maxTeeBytes: number;
  maxNameLength: number;
  maxTopicsPerToken: number;
  maxFrameBytes: number;
  maxConnectionsPerIp: number;
  trustProxy: boolean;
  maxSubscriptionsPerConnection: number;
  maxChannelsPerToken: number;
  publishRate: number;
  maxClientFrames: number;
  bodyTimeoutSeconds: number;
  streamIdleTimeoutSeconds: number;
  headersTimeoutSeconds: number;
  maxHeaderBytes: number;
  sendQueueBytes: number;
  pingIntervalSeconds: number;
  pongTimeoutSeconds: number;
  shutdownGraceSeconds: number;
  logLevel: string;
  redisUrl: string | undefined;
  redisPrefix: string;
  enforceTokenExpiry: boolean;
  authFailureLimit: number;
  inngestUpstream: string | undefined;
  inngestUpstreamTimeoutSeconds: number;
}

type Key = Exclude<keyof Config, 'mode'>;

export interface OptionSpec {
  key: Key;
  /** Commander flag syntax, e.g. `--port <number>`. */
  flag: string;
  env: string[];
  description: string;
  /** Default per mode; undefined means unset. */
  defaults: { dev: Config[Key]; start: Config[Key] };
  parse: (raw: string, name: string) => Config[Key];
}

const KIB = 1024;
const MIB = 1024 * 1024;

/** Parses `512KiB`, `1MiB`, `1000`, `2mb` (binary units either way) into bytes. */
export function parseBytes(raw: string, name: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?\s*$/i.exec(raw);
  if (!m) throw new Error(`${name}: "${raw}" is not a size (examples: 1048576, 512KiB, 1MiB)`);
  const unit = (m[2] ?? 'b').toLowerCase()[0];
  const mult = unit === 'k' ? KIB : unit === 'm' ? MIB : unit === 'g' ? 1024 * MIB : 1;
  return Math.floor(Number(m[1]) * mult);
}

/** Parses `60`, `60s`, `5m`, `1h`, `500ms` into seconds. */
export function parseSeconds(raw: string, name: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(raw);
  if (!m) throw new Error(`${name}: "${raw}" is not a duration (examples: 60, 60s, 5m, 500ms)`);
  const n = Number(m[1]);
  const unit = (m[2] ?? 's').toLowerCase();
  return unit === 'ms' ? n / 1000 : unit === 'm' ? n * 60 : unit === 'h' ? n * 3600 : n;
}

function parseInteger(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (raw: string, name: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new Error(`${name}: "${raw}" must be an integer from ${min} to ${max}`);
    return n;
  };
}

/** A rate per second: a non-negative number (`0` turns the limit off; `0.5` is one every 2 s). */
function parseRate(raw: string, name: string): number {
  const n = Number(raw.trim());
  if (raw.trim() === '' || !Number.isFinite(n) || n < 0)
    throw new Error(`${name}: "${raw}" must be a number of events per second, 0 or more`);
  return n;
}

const text = (raw: string): string => raw;

/**
 * The upstream of sidecar mode: an http(s) origin, optionally with a path prefix. Credentials, a
 * query or a fragment in it would be silently lost or leaked, so they are refused.
 */
export function parseUpstreamUrl(raw: string, name: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new Error(`${name}: "${raw}" is not a URL (example: http://127.0.0.1:8290)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`${name}: "${raw}" must be an http:// or https:// URL`);
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '')
    throw new Error(`${name}: "${raw}" must not carry credentials, a query or a fragment`);
  return url.href.replace(/\/$/, '');
}

/** A switch: given without a value on the command line, or `true`/`1`/`false`/`0` in the environment. */
export function parseBoolean(raw: string, name: string): boolean {
  const v = raw.trim().toLowerCase();
  if (v === 'true' || v === '1' || v === 'yes') return true;
  if (v === 'false' || v === '0' || v === 'no' || v === '') return false;
  throw new Error(`${name}: "${raw}" must be true or false`);
}

const same = <T extends Config[Key]>(v: T) => ({ dev: v, start: v });

export const OPTIONS: OptionSpec[] = [
  {
    key: 'port',
    flag: '--port <number>',
    env: ['HERALD_PORT'],
    description: 'TCP port to listen on (0 picks a free one)',
    defaults: same(8288),
    parse: parseInteger(0, 65535),
  },
  {
    key: 'host',
    flag: '--host <address>',
    env: ['HERALD_HOST'],
    description: 'Address to listen on',
    defaults: { dev: '127.0.0.1', start: '0.0.0.0' },
    parse: text,
  },
  {
    key: 'acceptHandles',
    flag: '--accept-handles <count>',
    env: ['HERALD_ACCEPT_HANDLES'],
    description:
      'Descriptors accepting on the listening socket: Node 20 accepts one connection per descriptor per event-loop turn, so a saturated node with one accepts reconnects too slowly (a helper process opens the extra ones at start)',
    defaults: { dev: 1, start: 4 },
    parse: parseInteger(1, 64),
  },
  {
    key: 'signingKey',
    flag: '--signing-key <key>',
    env: ['INNGEST_SIGNING_KEY', 'HERALD_SIGNING_KEY'],
    description:
      'Signing key that authenticates publishers and token minting (hex, optional signkey-<env>- prefix)',
    defaults: same(undefined),
    parse: text,
  },
  {
    key: 'signingKeyFallback',
    flag: '--signing-key-fallback <key>',
    env: ['INNGEST_SIGNING_KEY_FALLBACK', 'HERALD_SIGNING_KEY_FALLBACK'],
    description: 'Second accepted signing key, for rotation',
    defaults: same(undefined),
    parse: text,
  },
  {
    key: 'jwtSecret',
    flag: '--jwt-secret <secret>',
    env: ['HERALD_JWT_SECRET'],
    description:
      'Secret that signs subscription tokens; must be the same on every node (default: derived from the signing key)',
    defaults: same(undefined),
    parse: text,
  },
  {
    key: 'tokenTtlSeconds',
    flag: '--token-ttl <duration>',
    env: ['HERALD_TOKEN_TTL'],
    description: 'Lifetime of minted subscription tokens, in seconds',
    defaults: same(60),
    parse: parseSeconds,
  },
  {
    key: 'historySize',
    flag: '--history-size <messages>',
    env: ['HERALD_HISTORY_SIZE'],
    description: 'Messages kept per channel for recovery (0 keeps none)',
    defaults: same(1000),
    parse: parseInteger(0),
  },
  {
    key: 'historyTtlSeconds',
    flag: '--history-ttl <duration>',
    env: ['HERALD_HISTORY_TTL'],
    description: 'How long a message stays in channel history, in seconds',
    defaults: same(300),
    parse: parseSeconds,
  },
  {
    key: 'idempotencyWindowSeconds',
    flag: '--idempotency-window <duration>',
    env: ['HERALD_IDEMPOTENCY_WINDOW'],
    description: 'How long a publish Idempotency-Key is remembered, in seconds',
    defaults: same(300),
    parse: parseSeconds,
  },
  {
    key: 'maxBodyBytes',
    flag: '--max-body <bytes>',
    env: ['HERALD_MAX_BODY'],
    description: 'Largest publish or token request body, in bytes; larger gets 413',
    defaults: same(512 * KIB),
    parse: parseBytes,
  },
  {
    key: 'maxStreamBytes',
    flag: '--max-stream <bytes>',
    env: ['HERALD_MAX_STREAM'],
    description: 'Largest text/stream publish, in bytes; the stream is ended there and the response says so',
    defaults: same(16 * MIB),
    parse: parseBytes,
  },
  {
    key: 'maxTeeBytes',
    flag: '--max-tee <bytes>',
    env: ['HERALD_MAX_TEE'],
    description: 'Largest /publish/tee body, in bytes',
    defaults: same(1_024_000),
    parse: parseBytes,
  },
  {
    key: 'maxNameLength',
    flag: '--max-name-length <chars>',
    env: ['HERALD_MAX_NAME_LENGTH'],
    description: 'Longest channel, topic or run id, in characters',
    defaults: same(256),
    parse: parseInteger(1, 65536),
  },
  {
    key: 'maxTopicsPerToken',
    flag: '--max-topics-per-token <count>',
    env: ['HERALD_MAX_TOPICS_PER_TOKEN'],
    description: 'Most topics one token may grant',
    defaults: same(100),
    parse: parseInteger(1),
  },
  {
    key: 'maxFrameBytes',
    flag: '--max-frame <bytes>',
    env: ['HERALD_MAX_FRAME'],
    description: 'Largest WebSocket frame a client may send, in bytes; larger closes with 1009',
    defaults: same(32 * KIB),
    parse: parseBytes,
  },
  {
    key: 'maxConnectionsPerIp',
    flag: '--max-connections-per-ip <count>',
    env: ['HERALD_MAX_CONNECTIONS_PER_IP'],
    description:
      'Most open WebSocket and SSE connections from one client IP (together); more get 429 with Retry-After (0: no cap)',
    defaults: { dev: 0, start: 1000 },
    parse: parseInteger(0),
  },
  {
    key: 'trustProxy',
    flag: '--trust-proxy',
    env: ['HERALD_TRUST_PROXY'],
    description:
      "Take the client IP from the last hop of X-Forwarded-For (set it only behind a proxy that writes that header); default: the socket's address",
    defaults: same(false),
    parse: parseBoolean,
  },
  {
    key: 'maxSubscriptionsPerConnection',
    flag: '--max-subscriptions-per-connection <count>',
    env: ['HERALD_MAX_SUBSCRIPTIONS_PER_CONNECTION'],
    description:
      'Most (channel, topic) subscriptions one connection may hold; a sub frame past it is refused, a connect token past it gets 400',
    defaults: same(1000),
    parse: parseInteger(1),
  },
  {
    key: 'maxChannelsPerToken',
    flag: '--max-channels-per-token <count>',
    env: ['HERALD_MAX_CHANNELS_PER_TOKEN'],
    description: 'Most distinct channels one token may grant; more gets 400',
    defaults: same(100),
    parse: parseInteger(1),
  },
  {
    key: 'publishRate',
    flag: '--publish-rate <rate>',
    env: ['HERALD_PUBLISH_RATE'],
    description:
      'Publishes per second per publisher (signing key, publish token, or client IP when auth is off), in bursts of one second of them; more get 429 with Retry-After (0: off)',
    defaults: same(0),
    parse: parseRate,
  },
  {
    key: 'maxClientFrames',
    flag: '--max-client-frames <rate>',
    env: ['HERALD_MAX_CLIENT_FRAMES'],
    description:
      'WebSocket frames per second a client may send, in bursts of two seconds of them; more closes with 4029 (0: off)',
    defaults: same(100),
    parse: parseRate,
  },
  {
    key: 'bodyTimeoutSeconds',
    flag: '--body-timeout <duration>',
    env: ['HERALD_BODY_TIMEOUT'],
    description:
      'A JSON publish or token body not complete within this many seconds gets 408 and the connection is closed (0: off)',
    defaults: same(10),
    parse: parseSeconds,
  },
  {
    key: 'streamIdleTimeoutSeconds',
    flag: '--stream-idle-timeout <duration>',
    env: ['HERALD_STREAM_IDLE_TIMEOUT'],
    description:
      'A text/stream publish or tee body that sends nothing for this many seconds is ended (408, truncated); no limit on its total time (0: off)',
    defaults: same(60),
    parse: parseSeconds,
  },
  {
    key: 'headersTimeoutSeconds',
    flag: '--headers-timeout <duration>',
    env: ['HERALD_HEADERS_TIMEOUT'],
    description:
      'A request whose headers are not complete within this many seconds gets 408 and the connection is closed (0: off)',
    defaults: same(10),
    parse: parseSeconds,
  },
  {
    key: 'maxHeaderBytes',
    flag: '--max-header-bytes <bytes>',
    env: ['HERALD_MAX_HEADER_BYTES'],
    description: 'Largest request head (request line and headers), in bytes; larger gets 431',
    defaults: same(16 * KIB),
    parse: parseBytes,
  },
  {
    key: 'sendQueueBytes',
    flag: '--send-queue <bytes>',
    env: ['HERALD_SEND_QUEUE'],
    description: 'Per-connection send queue, in bytes; a connection that overflows it is closed with 4008',
    defaults: same(1 * MIB),
    parse: parseBytes,
  },
  {
    key: 'pingIntervalSeconds',
    flag: '--ping-interval <duration>',
    env: ['HERALD_PING_INTERVAL'],
    description: 'Keepalive interval: WebSocket pings and SSE comments, in seconds',
    defaults: same(15),
    parse: parseSeconds,
  },
  {
    key: 'pongTimeoutSeconds',
    flag: '--pong-timeout <duration>',
    env: ['HERALD_PONG_TIMEOUT'],
    description: 'A WebSocket that has not answered a ping within this many seconds is closed (4009)',
    defaults: same(10),
    parse: parseSeconds,
  },
  {
    key: 'shutdownGraceSeconds',
    flag: '--shutdown-grace <duration>',
    env: ['HERALD_SHUTDOWN_GRACE'],
    description: 'On SIGTERM/SIGINT, how long to wait for connections and requests to finish, in seconds',
    defaults: same(10),
    parse: parseSeconds,
  },
  {
    key: 'redisUrl',
    flag: '--redis-url <url>',
    env: ['HERALD_REDIS_URL'],
    description:
      'Use the Redis engine (several nodes share one Redis), e.g. redis://127.0.0.1:6379; default: in-memory',
    defaults: same(undefined),
    parse: text,
  },
  {
    key: 'redisPrefix',
    flag: '--redis-prefix <prefix>',
    env: ['HERALD_REDIS_PREFIX'],
    description: "Prefix of Herald's Redis keys and channels (for several deployments on one Redis)",
    defaults: same('herald'),
    parse: text,
  },
  {
    key: 'enforceTokenExpiry',
    flag: '--enforce-token-expiry',
    env: ['HERALD_ENFORCE_TOKEN_EXPIRY'],
    description:
      'Close connections whose token expired (4001) unless the client sent a fresh one in a sub frame; warns 10 s before',
    defaults: same(false),
    parse: parseBoolean,
  },
  {
    key: 'inngestUpstream',
    flag: '--inngest-upstream <url>',
    env: ['HERALD_INNGEST_UPSTREAM'],
    description:
      "Sidecar mode: forward every request outside Herald's own routes (/v1/realtime/* and /herald/*) to this Inngest server (dev server or self-hosted), so apps use Herald's URL as their only base URL; Herald's inspector, health, metrics and admin API are then only under /herald/",
    defaults: same(undefined),
    parse: parseUpstreamUrl,
  },
  {
    key: 'inngestUpstreamTimeoutSeconds',
    flag: '--inngest-upstream-timeout <duration>',
    env: ['HERALD_INNGEST_UPSTREAM_TIMEOUT'],
    description:
      'Sidecar mode: a forwarded request or WebSocket during which nothing moves either way for this many seconds is ended (504 if the upstream had not answered yet); no limit on total time or body size (0: off)',
    defaults: same(120),
    parse: parseSeconds,
  },
  {
    key: 'logLevel',
    flag: '--log-level <level>',
    env: ['HERALD_LOG_LEVEL'],
    description: 'fatal, error, warn, info, debug or trace',
    defaults: { dev: 'info', start: 'info' },
    parse: (raw, name) => {
      if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(raw))
        throw new Error(`${name}: "${raw}" is not a log level`);
      return raw;
    },
  },
  {
    key: 'authFailureLimit',
    flag: '--auth-failure-limit <count>',
    env: ['HERALD_AUTH_FAILURE_LIMIT'],
    description:
      'Failed authentications per minute from one IP (IPv6: per /64) after which its requests that need a credential get 429 until the minute is over (0: off)',
    defaults: { dev: 0, start: 30 },
    parse: parseInteger(0),
  },
];

/** Name of an option's flag without its argument, e.g. `--port`. */
export const flagName = (o: OptionSpec): string => o.flag.split(' ')[0] as string;

/**
 * Resolves the configuration: flags win over environment variables, which win over defaults.
 * `flags` maps option keys to raw strings as given on the command line.
 */
export function resolveConfig(
  mode: Mode,
  flags: Partial<Record<Key, string>>,
  env: NodeJS.ProcessEnv = process.env,
): Config {
  const out: Record<string, unknown> = { mode };
  for (const o of OPTIONS) {
    const fromFlag = flags[o.key];
    const envName = o.env.find((e) => env[e] !== undefined && env[e] !== '');
    if (fromFlag !== undefined) out[o.key] = o.parse(fromFlag, flagName(o));
    else if (envName !== undefined) out[o.key] = o.parse(env[envName] as string, envName);
    else out[o.key] = o.defaults[mode];
  }
  return out as unknown as Config;
}

/** Defaults for tests and embedding. */
export function defaultConfig(mode: Mode = 'dev', overrides: Partial<Config> = {}): Config {
  return { ...resolveConfig(mode, {}, {}), ...overrides };
}

function formatDefault(v: unknown, o: OptionSpec): string {
  if (v === undefined) return '—';
  if (typeof v === 'number' && o.parse === parseBytes) {
    if (v % MIB === 0) return `${v / MIB} MiB`;
    if (v % KIB === 0) return `${v / KIB} KiB`;
    return `${v} bytes`;
  }
  if (typeof v === 'number' && o.parse === parseSeconds) return `${v} s`;
  return String(v);
}

/** The Markdown table of options for docs/operations.md. */
export function configTable(): string {
  const rows = OPTIONS.map((o) => {
    const d =
      o.defaults.dev === o.defaults.start
        ? formatDefault(o.defaults.dev, o)
        : `dev: ${formatDefault(o.defaults.dev, o)}, start: ${formatDefault(o.defaults.start, o)}`;
    return `| \`${o.flag}\` | ${o.env.map((e) => `\`${e}\``).join(', ')} | ${d} | ${o.description} |`;
  });
  return ['| Flag | Environment | Default | Meaning |', '|---|---|---|---|', ...rows].join('\n');
}
