/**
 * Fuzz of every HTTP endpoint, in `herald dev` (open) and `herald start` (signing key): generated
 * requests (fast-check) and mutated valid ones (truncated, flipped, duplicated, re-typed), raw
 * malformed HTTP over a socket, oversized and trickled heads and bodies. For every input: the
 * process lives, the answer is a documented status (docs/protocol.md, "Statuses") with a JSON
 * error body, never a 5xx or a hang. Meanwhile numbered valid messages are published every few
 * inputs and must reach a WebSocket and an SSE subscriber once, in order, intact; afterwards the
 * connection counts and the heap (after a forced GC) return to where they were.
 *
 * Quick in `npm test` (fixed seed); `npm run fuzz -- --duration <s>` runs it by duration.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGNING_KEY, SIGNING_KEY_HASHED, serverErrors } from '../server/helpers.js';
import {
  answerProblems,
  ControlFeed,
  documentedStatuses,
  type Exchange,
  exchange,
  type FuzzHerald,
  generate,
  type HealthCounts,
  healthCounts,
  LONG,
  type Piece,
  pathOf,
  pct,
  printable,
  type RequestSpec,
  rounds,
  seedFor,
  serialize,
  settleTo,
  sleep,
  startFuzzHerald,
  Tally,
  timeoutMs,
} from './fuzz-support.js';

const SEED = seedFor(20_261_128);
/** Inputs per class, per process, per round. */
const RUNS = 75;
const tally = new Tally('fuzz-http', SEED);
/**
 * 503 is documented for a server shutting down or an engine that is down; neither happens here
 * (the memory engine), so a 503 during the fuzz would be a fault.
 */
const ALLOWED = new Set([...documentedStatuses()].filter((s) => s !== 503));

interface Target {
  name: 'dev' | 'start';
  h: FuzzHerald;
  /** Headers that authenticate publishing and minting (the signing key; none in dev). */
  auth: Record<string, string>;
  feed: ControlFeed;
  /** Valid subscription tokens (for /sse and /connect). */
  tokens: string[];
  /** An asset the inspector's build really has (so /assets/ is fuzzed around a 200 too). */
  asset: string;
  baseline: HealthCounts;
  heapBefore: number;
}

const targets: Target[] = [];

async function mint(
  url: string,
  auth: Record<string, string>,
  channel: string,
  names: string[],
): Promise<string> {
  const res = await fetch(`${url}/v1/realtime/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...auth },
    body: JSON.stringify(names.map((name) => ({ channel, name }))),
  });
  if (res.status !== 201) throw new Error(`token: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { jwt: string }).jwt;
}

async function prepare(name: Target['name'], h: FuzzHerald): Promise<Target> {
  const auth: Record<string, string> = name === 'start' ? { Authorization: `Bearer ${SIGNING_KEY}` } : {};
  const feed = await ControlFeed.open(h, { headers: auth, ws: name === 'dev' ? 2 : 1, sse: true });
  const tokens = [
    await mint(h.url, auth, 'fuzz-a', ['t']),
    await mint(h.url, auth, 'fuzz-b', ['t', 'u']),
    await mint(h.url, auth, 'fuzz-\u05d0🙂', ['t']),
  ];
  const page = await (await fetch(`${h.url}/`)).text();
  const asset = /\/assets\/[\w.-]+/.exec(page)?.[0] ?? '/assets/index.js';
  return { name, h, auth, feed, tokens, asset, baseline: await healthCounts(h.url), heapBefore: 0 };
}

/** Body limits of the fuzzed processes: small, so bodies past them (413, a cut stream) are cheap. */
const LIMIT = 64 * 1024;
const LIMITS = ['--max-body', String(LIMIT), '--max-stream', String(LIMIT), '--max-tee', String(LIMIT)];

beforeAll(async () => {
  const [dev, start] = await Promise.all([
    startFuzzHerald({ args: LIMITS }),
    // The auth-failure limit would answer 429 to everything after 30 bad credentials a minute: off,
    // so the fuzz reaches the routes (its own suite tests the limit).
    startFuzzHerald({
      mode: 'start',
      args: ['--signing-key', SIGNING_KEY, '--auth-failure-limit', '0', ...LIMITS],
    }),
  ]);
  targets.push(await prepare('dev', dev), await prepare('start', start));
  for (const t of targets) {
    // Warm up every route once (lazy compilation and caches are not leaks), then measure.
    for (const path of ['/health', '/metrics', '/dev', '/v1/admin/stats', '/', t.asset])
      await fetch(`${t.h.url}${path}`, { headers: t.auth });
    await t.feed.publishNext();
    t.heapBefore = await t.h.heapAfterGc();
  }
  tally.extra.processes = [
    `herald dev ${LIMITS.join(' ')}`,
    `herald start --signing-key … --auth-failure-limit 0 ${LIMITS.join(' ')}`,
  ];
}, 60_000);

afterAll(async () => {
  for (const t of targets) t.feed.close();
  await tally.report();
  await Promise.all(targets.map((t) => t.h.stop()));
});

// ---------------------------------------------------------------------------------------------
// Arbitraries

const validName = fc.stringMatching(/^[a-z0-9][a-z0-9:_.-]{0,15}$/);
/** Channel, topic and run id values: mostly valid, the rest hostile. */
const nameArb = fc.oneof(
  { weight: 8, arbitrary: validName },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '',
      '\u0000',
      'a\u0000b',
      '\ud800',
      'x\udfff',
      'a\ud83d',
      '\u202eevil',
      '🙂🙃',
      '\u200b',
      '..',
      '%',
      ' ',
      '\t',
      '\u00ff',
      '\u05d0\u05d1',
      '\ufeff',
      'a'.repeat(256),
      'a'.repeat(257),
    ),
  },
  { weight: 1, arbitrary: fc.integer({ min: 200, max: 5000 }).map((n) => 'c'.repeat(n)) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 250, maxLength: 300 }) },
);

const jsonText = fc.json({ maxDepth: 3 });
const metadataArb = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }))
      .map((o) => JSON.stringify(o)),
  },
  { weight: 2, arbitrary: jsonText },
  { weight: 1, arbitrary: jsonText.chain((s) => fc.nat(s.length).map((n) => s.slice(0, n))) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'null',
      '[]',
      '"x"',
      '{',
      '{"a":',
      'NaN',
      '1e999',
      '{"__proto__":{"polluted":1}}',
      '{"constructor":{"prototype":{"polluted":1}}}',
    ),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 500, max: 4000 }).map((n) => JSON.stringify({ pad: 'é'.repeat(n) })),
  },
);

/** Query-string pieces that are not name=value pairs, or are malformed. */
const junkQueryPart = fc.oneof(
  fc.constantFrom(
    '%',
    '%zz',
    '%F',
    '=',
    '==',
    '&',
    '',
    'channel',
    'channel=',
    '=x',
    'a=%E0%A4%A',
    '%ED%A0%80',
    'topic=%00',
    'channel=%C0%AF',
    '+++',
    'channel[]=a',
    'token=',
    'metadata',
    '__proto__=1',
  ),
  fc.stringMatching(/^[A-Za-z0-9%=&+._~!$'()*,;:@/?-]{0,30}$/),
);

interface QueryParams {
  [k: string]: string | undefined;
}
/** A query string: named parameters percent-encoded, some duplicated, junk parts mixed in. */
function queryArb(params: fc.Arbitrary<QueryParams>): fc.Arbitrary<string> {
  return fc
    .tuple(
      params,
      fc.array(junkQueryPart, { maxLength: 3 }),
      fc.array(fc.tuple(fc.constantFrom('channel', 'topic', 'token', 'since'), nameArb), { maxLength: 2 }),
      fc.boolean(),
    )
    .map(([p, junk, dups, junkFirst]) => {
      const parts = Object.entries(p)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${pct(v as string)}`);
      for (const [k, v] of dups) parts.push(`${k}=${pct(v)}`);
      return (junkFirst ? [...junk, ...parts] : [...parts, ...junk]).join('&');
    });
}

/** Header values: printable, latin1 bytes, UTF-8 bytes, control characters (never CR or LF here). */
const headerValue = fc
  .oneof(
    { weight: 4, arbitrary: fc.stringMatching(/^[\x20-\x7e]{0,60}$/) },
    {
      weight: 1,
      arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }).map((s) => Buffer.from(s).toString('latin1')),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 20 }) },
    { weight: 1, arbitrary: fc.integer({ min: 500, max: 4000 }).map((n) => 'v'.repeat(n)) },
  )
  .map((v) => v.replace(/[\r\n]/g, ' '));

const contentTypeArb = fc.option(
  fc.oneof(
    fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'text/plain',
      'text/stream',
      'TEXT/STREAM; charset=utf-8',
      'text/stream;',
      ' text/stream ',
      'text/streamx',
      'multipart/form-data; boundary=x',
      '',
      'garbage',
      ';;;',
      'application/x-www-form-urlencoded',
      'application/octet-stream',
      '*/*',
    ),
    headerValue,
  ),
  { nil: undefined },
);

const extraHeaderName = fc.constantFrom(
  'Origin',
  'Accept',
  'Accept-Encoding',
  'X-Forwarded-For',
  'Cookie',
  'Idempotency-Key',
  'Last-Event-ID',
  'Expect',
  'Upgrade',
  'Connection',
  'Content-Encoding',
  'Range',
  'If-None-Match',
  'Access-Control-Request-Method',
  'Access-Control-Request-Headers',
  'X-Request-Id',
  'Sec-WebSocket-Key',
  'Host',
);
const extraHeaders = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: fc.tuple(extraHeaderName, headerValue) },
    {
      weight: 1,
      arbitrary: fc.constantFrom<[string, string]>(
        ['Expect', '100-continue'],
        ['Expect', 'bogus'],
        ['Connection', 'upgrade'],
        ['Upgrade', 'websocket'],
        ['Upgrade', 'h2c'],
        ['Idempotency-Key', ''],
        ['Idempotency-Key', 'k'.repeat(8000)],
        ['Accept-Encoding', 'gzip, br'],
      ),
    },
    { weight: 1, arbitrary: fc.tuple(fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/), headerValue) },
  ),
  { maxLength: 3 },
);

/** Credentials: the right one, none, garbage, and (wrongly) a subscription token. */
function authArb(t: Target): fc.Arbitrary<[string, string][]> {
  const as = (h: Record<string, string>) => Object.entries(h);
  return fc.oneof(
    { weight: 5, arbitrary: fc.constant(as(t.auth)) },
    { weight: 1, arbitrary: fc.constant<[string, string][]>([]) },
    {
      weight: 1,
      arbitrary: fc.constantFrom<[string, string][]>(
        [['Authorization', `Bearer ${SIGNING_KEY_HASHED}`]],
        [['Authorization', 'Bearer']],
        [['Authorization', 'Bearer ']],
        [['Authorization', 'Basic dXNlcjpwYXNz']],
        [['Authorization', 'bearer signkey-test-00']],
        [['Authorization', `Bearer ${SIGNING_KEY}x`]],
        [['Authorization', 'Bearer a.b.c']],
        [['Authorization', 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.']],
      ),
    },
    { weight: 1, arbitrary: headerValue.map((v) => [['Authorization', v]] as [string, string][]) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(...t.tokens)
        .map((tok) => [['Authorization', `Bearer ${tok}`]] as [string, string][]),
    },
  );
}

/** Past the body limits (LIMIT), as text: a stream or tee over its limit is cut, a JSON body refused. */
const bigBody = fc
  .tuple(fc.integer({ min: 64 * 1024 + 1, max: 100_000 }), fc.constantFrom('a', 'é', '🙂'))
  .map(([n, c]) => Buffer.from(c.repeat(Math.ceil(n / Buffer.byteLength(c)))));
const bodyArb = fc.oneof(
  { weight: 3, arbitrary: jsonText.map((s) => Buffer.from(s)) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map((s) => Buffer.from(s)) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 2048 }).map((a) => Buffer.from(a)) },
  { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
  { weight: 1, arbitrary: jsonText.chain((s) => fc.nat(s.length).map((n) => Buffer.from(s.slice(0, n)))) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('123', '"123"', 'null', 'true', '[]', '{}', '\ufeff{}')
      .map((s) => Buffer.from(s)),
  },
  {
    weight: 1,
    arbitrary: fc
      .uint8Array({ minLength: 1, maxLength: 64 })
      .map((a) => Buffer.concat([Buffer.from('"'), Buffer.from(a), Buffer.from('"')])),
  },
);
const topicListArb = fc
  .array(
    fc.record(
      {
        channel: nameArb,
        name: nameArb,
        kind: fc.oneof(fc.constant('run'), fc.string({ maxLength: 5 }), fc.integer()),
        run_id: nameArb,
        env_id: fc.string({ maxLength: 10 }),
      },
      { requiredKeys: [] },
    ),
    { maxLength: 5 },
  )
  .map((l) => Buffer.from(JSON.stringify(l)));
const manyTopics = fc
  .integer({ min: 95, max: 130 })
  .map((n) =>
    Buffer.from(
      JSON.stringify(Array.from({ length: n }, (_, i) => ({ channel: `c${i % 7}`, name: `n${i}` }))),
    ),
  );

/** Splits a body into 1–6 pieces for chunked transfer. */
function chunksArb(body: Buffer): fc.Arbitrary<Buffer[]> {
  return fc.array(fc.nat(body.length), { maxLength: 5 }).map((cuts) => {
    const at = [...new Set([0, ...cuts.sort((a, b) => a - b), body.length])];
    const out: Buffer[] = [];
    for (let i = 1; i < at.length; i++) out.push(body.subarray(at[i - 1], at[i]));
    return out;
  });
}

// ---------------------------------------------------------------------------------------------
// Requests

interface Input {
  pieces: Piece[];
  method: string;
  path: string;
  /** A well-framed request: no answer (only a close) is a violation. */
  framed: boolean;
  /** A class-specific expectation on the answers; returns a problem or undefined. */
  expect?: (ex: Exchange) => string | undefined;
}

const BASE_HEADERS: [string, string][] = [
  ['Host', '127.0.0.1'],
  ['Connection', 'close'],
];

function framedRequest(
  method: string,
  target: string,
  headers: [string, string][],
  body?: Buffer,
  chunks?: Buffer[],
): Input {
  const spec: RequestSpec = { method, target, headers: [...BASE_HEADERS, ...headers] };
  if (chunks) spec.chunks = chunks;
  else if (body !== undefined) spec.body = body;
  return { pieces: [serialize(spec)], method, path: pathOf(target), framed: true };
}

const withType = (ct: string | undefined): [string, string][] =>
  ct === undefined ? [] : [['Content-Type', ct]];

function postArb(
  t: Target,
  target: fc.Arbitrary<string>,
  body: fc.Arbitrary<Buffer>,
  contentType: fc.Arbitrary<string | undefined> = contentTypeArb,
): fc.Arbitrary<Input> {
  return fc
    .record({ target, body, ct: contentType, auth: authArb(t), extra: extraHeaders, chunked: fc.boolean() })
    .chain((r) =>
      (r.chunked ? chunksArb(r.body) : fc.constant(undefined)).map((chunks) =>
        framedRequest('POST', r.target, [...withType(r.ct), ...r.auth, ...r.extra], r.body, chunks),
      ),
    );
}

function getArb(
  t: Target,
  target: fc.Arbitrary<string>,
  headers: fc.Arbitrary<[string, string][]> = fc.constant([]),
): fc.Arbitrary<Input> {
  return fc
    .record({ target, auth: authArb(t), extra: extraHeaders, headers })
    .map((r) => framedRequest('GET', r.target, [...r.auth, ...r.headers, ...r.extra]));
}

/** Mostly with a channel and a topic (so the fuzz reaches past the name checks), the rest optional. */
const mostly = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { freq: 8, nil: undefined });
const publishQuery = queryArb(
  fc.record(
    {
      channel: mostly(nameArb),
      topic: mostly(nameArb),
      run_id: nameArb,
      metadata: metadataArb,
      token: fc.string({ maxLength: 20 }),
    },
    { requiredKeys: ['channel', 'topic'] },
  ),
);

const sinceArb = fc.oneof(
  fc.constantFrom(
    '',
    'now',
    'oldest',
    'abc:1',
    ':',
    'x:-1',
    'x:1.5',
    'x:99999999999999999999',
    '{"fuzz-a":"now"}',
    '{',
    '[]',
    'null',
    '{"fuzz-a":5}',
  ),
  fc.string({ unit: 'binary', maxLength: 20 }),
  jsonText,
);

function tokenArb(t: Target): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...t.tokens) },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom(...t.tokens), fc.nat(), fc.integer({ min: 1, max: 30 }))
        .map(([tok, i, x]) => {
          const p = i % tok.length;
          return tok.slice(0, p) + String.fromCharCode(tok.charCodeAt(p) ^ x) + tok.slice(p + 1);
        }),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(...t.tokens), fc.nat())
        .map(([tok, n]) => tok.slice(0, n % tok.length)),
    },
  );
}

function subscribeQuery(t: Target): fc.Arbitrary<string> {
  return queryArb(
    fc.record(
      { token: tokenArb(t), since: sinceArb, heartbeat: fc.constantFrom('1', '', 'x') },
      { requiredKeys: ['token'] },
    ),
  );
}

const KNOWN_PATHS = [
  '/v1/realtime/token',
  '/v1/realtime/publish',
  '/v1/realtime/publish/tee',
  '/v1/realtime/sse',
  '/v1/realtime/connect',
  '/health',
  '/metrics',
  '/dev',
  '/v1/admin/stats',
  '/',
  '/assets/index.js',
];

const pathJunk = fc.oneof(
  fc.webPath(),
  fc.string({ unit: 'grapheme', maxLength: 30 }).map((s) => `/${pct(s)}`),
  fc.constantFrom(
    '/v1/realtime/',
    '/v1/realtime/publish/',
    '/v1/realtime/publish/tee/x',
    '/V1/REALTIME/PUBLISH',
    '/health/',
    '/health%00',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/assets/../../package.json',
    '/assets/..%2f..%2fpackage.json',
    '/assets/%2e%2e%2fpackage.json',
    '/assets/',
    '/assets/.env',
    '/assets/index.js/',
    '/./health',
    '/v1/realtime/connect/../token',
    '/;health',
    '/health;x',
    '/favicon.ico',
  ),
);

/** Every endpoint class: name → arbitrary of inputs against a target. */
function classes(t: Target): Record<string, fc.Arbitrary<Input>> {
  return {
    token: postArb(
      t,
      fc.oneof(
        fc.constant('/v1/realtime/token'),
        queryArb(fc.record({ token: fc.string() }, { requiredKeys: [] })).map(
          (q) => `/v1/realtime/token?${q}`,
        ),
      ),
      fc.oneof(
        { weight: 4, arbitrary: topicListArb },
        { weight: 3, arbitrary: bodyArb },
        { weight: 1, arbitrary: manyTopics },
        { weight: 1, arbitrary: bigBody },
      ),
    ),
    publish: postArb(
      t,
      publishQuery.map((q) => `/v1/realtime/publish?${q}`),
      fc.oneof({ weight: 12, arbitrary: bodyArb }, { weight: 1, arbitrary: bigBody }),
      contentTypeArb.filter((ct) => !/^\s*text\/stream\s*(;|$)/i.test(ct ?? '')),
    ),
    'publish-stream': postArb(
      t,
      publishQuery.map((q) => `/v1/realtime/publish?${q}`),
      fc.oneof(
        { weight: 5, arbitrary: bodyArb },
        { weight: 5, arbitrary: fc.string({ unit: 'grapheme', maxLength: 300 }).map((s) => Buffer.from(s)) },
        { weight: 1, arbitrary: bigBody },
      ),
      fc.constantFrom('text/stream', 'text/stream; charset=utf-8', 'TEXT/STREAM', 'text/stream;x=y'),
    ),
    tee: postArb(
      t,
      queryArb(fc.record({ channel: nameArb, topic: nameArb }, { requiredKeys: [] })).map(
        (q) => `/v1/realtime/publish/tee?${q}`,
      ),
      fc.oneof(
        { weight: 5, arbitrary: bodyArb },
        { weight: 5, arbitrary: fc.string({ unit: 'grapheme', maxLength: 300 }).map((s) => Buffer.from(s)) },
        { weight: 1, arbitrary: bigBody },
      ),
    ),
    sse: getArb(
      t,
      subscribeQuery(t).map((q) => `/v1/realtime/sse?${q}`),
      fc
        .option(fc.tuple(fc.constant('Last-Event-ID'), fc.oneof(sinceArb, headerValue)), { nil: undefined })
        .map((h) => (h ? [h as [string, string]] : [])),
    ),
    'connect-no-upgrade': getArb(
      t,
      subscribeQuery(t).map((q) => `/v1/realtime/connect?${q}`),
    ),
    'read-only': getArb(
      t,
      fc
        .tuple(
          fc.constantFrom('/health', '/metrics', '/dev', '/v1/admin/stats', '/', t.asset, '/assets/nope.js'),
          fc.option(
            queryArb(
              fc.record(
                {
                  limit: fc.oneof(fc.integer().map(String), fc.string({ maxLength: 6 })),
                  token: fc.string({ maxLength: 10 }),
                },
                { requiredKeys: [] },
              ),
            ),
            { nil: undefined },
          ),
        )
        .map(([p, q]) => (q === undefined ? p : `${p}?${q}`)),
    ),
    'unknown-path': fc
      .record({
        path: pathJunk,
        method: fc.constantFrom('GET', 'POST', 'DELETE'),
        extra: extraHeaders,
        body: fc.option(bodyArb, { nil: undefined }),
      })
      .map((r) =>
        framedRequest(
          r.method,
          r.path,
          r.extra,
          r.method === 'POST' ? (r.body ?? Buffer.alloc(0)) : undefined,
        ),
      ),
    'wrong-method': fc
      .record({
        path: fc.constantFrom(...KNOWN_PATHS),
        method: fc.oneof(
          fc.constantFrom(
            'PUT',
            'DELETE',
            'PATCH',
            'HEAD',
            'TRACE',
            'get',
            'Post',
            'PROPFIND',
            'SEARCH',
            'MKCOL',
            'PURGE',
            'LINK',
          ),
          fc.stringMatching(/^[A-Z]{1,10}$/),
        ),
        auth: authArb(t),
        body: fc.option(bodyArb, { nil: undefined }),
      })
      .map((r) => framedRequest(r.method, r.path, r.auth, r.body)),
    preflight: fc
      .record({
        path: fc.oneof(fc.constantFrom(...KNOWN_PATHS), pathJunk),
        extra: extraHeaders,
        acrh: fc.option(headerValue, { nil: undefined }),
      })
      .map((r) =>
        framedRequest('OPTIONS', r.path, [
          ['Origin', 'https://app.example'],
          ['Access-Control-Request-Method', 'POST'],
          ...(r.acrh === undefined ? [] : [['Access-Control-Request-Headers', r.acrh] as [string, string]]),
          ...r.extra,
        ]),
      ),
    mutated: mutatedArb(t),
    'raw-malformed': rawArb(t),
    'oversized-headers': oversizedArb(t),
  };
}

// ---------------------------------------------------------------------------------------------
// Mutations of valid requests

function templates(t: Target): RequestSpec[] {
  const a = Object.entries(t.auth);
  const json = (v: unknown) => Buffer.from(JSON.stringify(v));
  const tok = encodeURIComponent(t.tokens[0] as string);
  return [
    {
      method: 'POST',
      target: '/v1/realtime/token',
      headers: [...BASE_HEADERS, ['Content-Type', 'application/json'], ...a],
      body: json([{ channel: 'm', name: 't' }]),
    },
    {
      method: 'POST',
      target: '/v1/realtime/publish?channel=m&topic=t&run_id=r1&metadata=%7B%22a%22%3A1%7D',
      headers: [...BASE_HEADERS, ['Content-Type', 'application/json'], ['Idempotency-Key', 'k1'], ...a],
      body: json({ hello: 'world', n: [1, 2, 3] }),
    },
    {
      method: 'POST',
      target: '/v1/realtime/publish?channel=m&topic=s',
      headers: [...BASE_HEADERS, ['Content-Type', 'text/stream'], ...a],
      chunks: [Buffer.from('Hel'), Buffer.from('lo, 世'), Buffer.from('界')],
    },
    {
      method: 'POST',
      target: '/v1/realtime/publish/tee?channel=m',
      headers: [...BASE_HEADERS, ['Content-Type', 'text/plain'], ...a],
      body: Buffer.from('raw tee bytes'),
    },
    {
      method: 'GET',
      target: `/v1/realtime/sse?token=${tok}&since=now`,
      headers: [...BASE_HEADERS, ['Accept', 'text/event-stream']],
    },
    { method: 'GET', target: `/v1/realtime/connect?token=${tok}`, headers: [...BASE_HEADERS] },
    { method: 'GET', target: '/health', headers: [...BASE_HEADERS] },
    { method: 'GET', target: '/metrics', headers: [...BASE_HEADERS] },
    { method: 'GET', target: '/dev', headers: [...BASE_HEADERS] },
    { method: 'GET', target: '/v1/admin/stats?limit=5', headers: [...BASE_HEADERS, ...a] },
    { method: 'GET', target: '/', headers: [...BASE_HEADERS] },
    { method: 'GET', target: t.asset, headers: [...BASE_HEADERS] },
    {
      method: 'OPTIONS',
      target: '/v1/realtime/publish',
      headers: [...BASE_HEADERS, ['Origin', 'https://a.example'], ['Access-Control-Request-Method', 'POST']],
    },
  ];
}

type SpecMutation = (s: RequestSpec) => RequestSpec;
const CONTENT_TYPES = [
  'application/json',
  'text/stream',
  'text/plain',
  'multipart/form-data',
  '',
  'x',
  'application/json; charset=latin1',
];
const specMutation: fc.Arbitrary<[string, SpecMutation]> = fc.oneof(
  fc.constant<[string, SpecMutation]>(['none', (s) => s]),
  nameArb.map<[string, SpecMutation]>((v) => [
    'duplicate-params',
    (s) => {
      const [p, q = ''] = s.target.split('?');
      const extra = q
        .split('&')
        .filter(Boolean)
        .map((kv) => `${kv.split('=')[0]}=${pct(v)}`);
      return { ...s, target: `${p}?${[q, ...extra].filter(Boolean).join('&')}` };
    },
  ]),
  fc
    .constantFrom(...CONTENT_TYPES)
    .map<[string, SpecMutation]>((ct) => [
      `content-type ${JSON.stringify(ct)}`,
      (s) => ({ ...s, headers: [...s.headers.filter(([k]) => k !== 'Content-Type'), ['Content-Type', ct]] }),
    ]),
  fc
    .constantFrom('Content-Type', 'Authorization', 'Host', 'Connection', 'Idempotency-Key')
    .map<[string, SpecMutation]>((h) => [
      `drop ${h}`,
      (s) => ({ ...s, headers: s.headers.filter(([k]) => k !== h) }),
    ]),
  fc.nat().map<[string, SpecMutation]>((i) => [
    'duplicate-header',
    (s) => {
      const h = s.headers[i % s.headers.length] as [string, string];
      return { ...s, headers: [...s.headers, [h[0], `${h[1]}x`]] };
    },
  ]),
  fc
    .constantFrom('get', 'PUT', 'HEAD', 'POST', 'GET')
    .map<[string, SpecMutation]>((m) => [`method ${m}`, (s) => ({ ...s, method: m })]),
  fc.uint8Array({ maxLength: 64 }).map<[string, SpecMutation]>((b) => [
    'body-swap',
    (s) => {
      const { chunks: _c, ...rest } = s;
      return { ...rest, body: Buffer.from(b) };
    },
  ]),
);

type ByteMutation = (b: Buffer) => Buffer;
const byteMutation: fc.Arbitrary<[string, ByteMutation]> = fc.oneof(
  fc.constant<[string, ByteMutation]>(['none', (b) => b]),
  fc.nat().map<[string, ByteMutation]>((n) => ['truncate', (b) => b.subarray(0, n % (b.length + 1))]),
  fc
    .array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 })
    .map<[string, ByteMutation]>((flips) => [
      'flip',
      (b) => {
        const c = Buffer.from(b);
        for (const [i, x] of flips) c[i % c.length] = (c[i % c.length] as number) ^ x;
        return c;
      },
    ]),
  fc
    .tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 16 }))
    .map<[string, ByteMutation]>(([i, ins]) => [
      'insert',
      (b) =>
        Buffer.concat([b.subarray(0, i % (b.length + 1)), Buffer.from(ins), b.subarray(i % (b.length + 1))]),
    ]),
  fc
    .tuple(fc.nat(), fc.integer({ min: 1, max: 40 }))
    .map<[string, ByteMutation]>(([i, n]) => [
      'delete',
      (b) => Buffer.concat([b.subarray(0, i % b.length), b.subarray((i % b.length) + n)]),
    ]),
);

function mutatedArb(t: Target): fc.Arbitrary<Input> {
  const specs = templates(t);
  return fc
    .tuple(fc.constantFrom(...specs), specMutation, byteMutation)
    .map(([spec, [, mutateSpec], [, mutateBytes]]) => {
      const s = mutateSpec(spec);
      return { pieces: [mutateBytes(serialize(s))], method: s.method, path: pathOf(s.target), framed: false };
    });
}

// ---------------------------------------------------------------------------------------------
// Raw malformed HTTP and oversized heads

const crlf = (s: string) => Buffer.from(s.replace(/\n/g, '\r\n'), 'latin1');

function rawArb(t: Target): fc.Arbitrary<Input> {
  const a = Object.entries(t.auth)
    .map(([k, v]) => `${k}: ${v}\n`)
    .join('');
  const pub = `POST /v1/realtime/publish?channel=raw&topic=t HTTP/1.1\nHost: x\n${a}`;
  const catalogue = [
    'GET\n\n',
    'GET / HTTP/9.9\nHost: x\n\n',
    'GET / HTTP/1.1 extra\nHost: x\n\n',
    ' / HTTP/1.1\n\n',
    'G@T / HTTP/1.1\nHost: x\n\n',
    'GET  /health  HTTP/1.1\nHost: x\nConnection: close\n\n',
    '\x00\x01\x02\x03\n\n',
    'PRI * HTTP/2.0\n\nSM\n\n',
    'GET // HTTP/1.1\nHost: x\nConnection: close\n\n',
    'GET //[ HTTP/1.1\nHost: x\nConnection: close\n\n',
    'GET http://[::1 HTTP/1.1\nHost: x\nConnection: close\n\n',
    'GET http://x/health HTTP/1.1\nHost: x\nConnection: close\n\n',
    'GET \\\\ HTTP/1.1\nHost: x\nConnection: close\n\n',
    'GET //a%20b/health HTTP/1.1\nHost: x\nConnection: close\n\n',
    'GET * HTTP/1.1\nHost: x\nConnection: close\n\n',
    'OPTIONS * HTTP/1.1\nHost: x\nConnection: close\n\n',
    'GET /health HTTP/1.0\n\n',
    'GET /health\n\n',
    'CONNECT 127.0.0.1:1 HTTP/1.1\nHost: 127.0.0.1:1\n\n',
    'GET /health HTTP/1.1\nHost x\n\n',
    'GET /health HTTP/1.1\nHost : x\n\n',
    'GET /health HTTP/1.1\nHost: x\nX: a\n b\nConnection: close\n\n',
    'GET /health HTTP/1.1\nHost: x\nX: a\x00b\n\n',
    'GET /health HTTP/1.1\nHost: x\nHost: y\nConnection: close\n\n',
    'GET /health HTTP/1.1\nConnection: close\n\n',
    'GET /health HTTP/1.1\nHost: x\nConnection: close\n',
    `${pub}Transfer-Encoding: chunked\n\nzz\nabc\n0\n\n`,
    `${pub}Transfer-Encoding: chunked\n\n-1\nabc\n0\n\n`,
    `${pub}Transfer-Encoding: chunked\n\nffffffffffffffffff\nabc\n0\n\n`,
    `${pub}Transfer-Encoding: chunked\n\n3\nabcdef\n0\n\n`,
    `${pub}Transfer-Encoding: chunked\n\n3;ext=\x01\nabc\n0\n\n`,
    `${pub}Transfer-Encoding: chunked\n\n3\nabc0\n\n`,
    `${pub}Transfer-Encoding: chunked\n\n3\nabc\n0\nTrailer-Junk\n\n`,
    `${pub}Transfer-Encoding: chunked\n\n3\nabc\n`,
    `${pub}Content-Length: 5\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n`,
    `${pub}Transfer-Encoding: chunked\nContent-Length: 5\n\nhello`,
    `${pub}Content-Length: 5\nContent-Length: 6\n\nhello!`,
    `${pub}Content-Length: +5\n\nhello`,
    `${pub}Content-Length: -1\n\nhello`,
    `${pub}Content-Length: 1e3\n\nhello`,
    `${pub}Content-Length: 5, 5\n\nhello`,
    `${pub}Content-Length: 99999999999999999999\n\nhello`,
    `${pub}Transfer-Encoding: chunked, gzip\n\n3\nabc\n0\n\n`,
    `${pub}Transfer-Encoding: gzip\n\nhello`,
    `${pub}Transfer-Encoding: identity\n\nhello`,
    `${pub}Transfer-Encoding: xchunked\n\nhello`,
    `${pub}Transfer-Encoding:\x0bchunked\n\n3\nabc\n0\n\n`,
    `${pub}Content-Length: 2\nConnection: keep-alive\n\n{}GARBAGE / HTTP/1.1\n\n`,
    'GET /health HTTP/1.1\nHost: x\n\nGET /dev HTTP/1.1\nHost: x\n\n\x16\x03\x01\x00\xa5\x01\x00',
    'GET /health HTTP/1.1\nHost: x\n\nGET /metrics HTTP/1.1\nHost: x\n\nGET /dev HTTP/1.1\nHost: x\nConnection: close\n\n',
    'GET /health HTTP/1.1\nHost: x\n\n\n\n\nxyz\n\n',
  ].map((s) => (s.includes('\r') ? Buffer.from(s, 'latin1') : crlf(s)));
  const randomLine = fc
    .tuple(
      fc.oneof(fc.constantFrom('GET', 'POST', 'OPTIONS', 'HEAD'), fc.stringMatching(/^[!-~]{1,8}$/)),
      fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 40 }),
      fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/1.2', 'http/1.1', 'HTTP/11', ''),
    )
    .map(([m, target, v]) =>
      crlf(`${m} ${target.replace(/[\r\n]/g, '')} ${v}\nHost: x\nConnection: close\n\n`),
    );
  return fc
    .oneof(
      { weight: 3, arbitrary: fc.constantFrom(...catalogue) },
      { weight: 2, arbitrary: randomLine },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)) },
      {
        weight: 1,
        arbitrary: fc
          .uint8Array({ minLength: 1, maxLength: 100 })
          .map((b) => Buffer.concat([crlf('GET /health HTTP/1.1\nHost: x\n\n'), Buffer.from(b)])),
      },
    )
    .map((bytes) => {
      const line = bytes.subarray(0, Math.max(0, bytes.indexOf(0x0d))).toString('latin1');
      const [method = '', target = '/'] = line.split(' ');
      return { pieces: [bytes], method, path: pathOf(target), framed: false };
    });
}

function oversizedArb(t: Target): fc.Arbitrary<Input> {
  const a = Object.entries(t.auth);
  const only431 = (ex: Exchange) => {
    const s = ex.responses.map((r) => r.status);
    return s.length === 1 && s[0] === 431
      ? undefined
      : `expected one 431 answer, got [${s.join(', ') || (ex.closed ? 'close' : 'nothing')}]`;
  };
  return fc
    .tuple(
      fc.constantFrom(...KNOWN_PATHS),
      fc.integer({ min: 17 * 1024, max: 96 * 1024 }),
      fc.constantFrom('one-header', 'many-headers', 'long-target', 'long-metadata'),
    )
    .map(([path, size, how]) => {
      let target = path;
      const headers: [string, string][] = [...a];
      if (how === 'one-header') headers.push(['X-Big', 'b'.repeat(size)]);
      else if (how === 'many-headers')
        for (let i = 0; i * 100 < size; i++) headers.push([`X-H${i}`, 'h'.repeat(95)]);
      else if (how === 'long-target') target = `${path}?junk=${'j'.repeat(size)}`;
      else
        target = `/v1/realtime/publish?channel=c&topic=t&metadata=${pct(JSON.stringify({ pad: 'é'.repeat(size / 6) }))}`;
      const input = framedRequest('GET', target, headers);
      return { ...input, expect: only431 };
    });
}

// ---------------------------------------------------------------------------------------------
// Running a class

/** Checks one exchange against the invariants and records its outcome. */
function judge(cls: string, input: Input, ex: Exchange): void {
  const where = cls;
  const show = () => printable(input.pieces);
  if (ex.hung)
    tally.violation(where, 'hang: no answer and no close, even after the client half-closed', show());
  if (ex.truncated) tally.violation(where, 'answer cut off before its end', show());
  if (ex.responses.length === 0) {
    tally.outcome(cls, ex.hung ? 'hang' : 'closed-without-answer');
    if (input.framed && !ex.hung)
      tally.violation(where, 'closed without an answer to a well-framed request', show());
  }
  ex.responses.forEach((r, i) => {
    tally.outcome(cls, r.status);
    // Pipelined answers after the first belong to requests we did not frame as such: judge them
    // as errors of an unknown path (they must be JSON whatever they are).
    const problems = answerProblems(ALLOWED, i === 0 ? input.method : 'GET', i === 0 ? input.path : '?', r);
    for (const p of problems)
      tally.violation(
        where,
        p,
        `${show()}\n    answer: ${r.status} ${r.body.toString('utf8').slice(0, 200)}`,
      );
  });
  const extra = input.expect?.(ex);
  if (extra) tally.violation(where, extra, show());
}

async function fuzzClass(
  t: Target,
  cls: string,
  arb: fc.Arbitrary<Input>,
  seed: number,
  runs: number,
): Promise<void> {
  const key = `${t.name} ${cls}`;
  const pending: Promise<void>[] = [];
  tally.onEvery = () => t.feed.publishNext();
  const crashed = () => {
    tally.crashes++;
    return new Error(
      `Herald (${t.name}) exited during "${cls}" (seed ${SEED}):\n${t.h.output().slice(-3000)}`,
    );
  };
  await generate(arb, seed, runs, async (input) => {
    if (!t.h.alive()) throw crashed();
    await tally.try(key);
    const p = exchange(t.h.port, input.pieces, {
      method: input.method,
      answerMs: input.framed ? 10_000 : 1_000,
    }).then((ex) => judge(key, input, ex));
    // Most answers take a millisecond; one that waits (a truncated body) finishes in the background.
    const settled = await Promise.race([p.then(() => true), sleep(300).then(() => false)]);
    if (!settled) pending.push(p);
  });
  await Promise.all(pending);
  if (!t.h.alive()) throw crashed();
}

function violationsOf(prefix: string) {
  return tally.violations.filter((v) => v.class.startsWith(prefix));
}

describe.each(['dev', 'start'] as const)('herald %s', (name) => {
  it(
    'answers every fuzzed input to every endpoint with a documented status and a JSON error, never a 5xx or a hang',
    async () => {
      const t = targets.find((x) => x.name === name) as Target;
      const all = classes(t);
      const names = Object.keys(all);
      const roundsRun = await rounds(SEED + (name === 'start' ? 1 : 0), RUNS, 0.45, async (seed, runs) => {
        for (const [i, cls] of names.entries())
          await fuzzClass(t, cls, all[cls] as fc.Arbitrary<Input>, seed + i, runs);
      });
      tally.extra[`${name}Rounds`] = roundsRun;
      const health = await healthCounts(t.h.url);
      expect(health.status).toBe(200);
      expect(t.h.alive()).toBe(true);
      expect(violationsOf(`${name} `)).toEqual([]);
    },
    timeoutMs(120_000),
  );
});

describe('slow clients (a Herald with --body-timeout 1 --headers-timeout 1 --stream-idle-timeout 1)', () => {
  it(
    'answers a trickled body or head with 408 JSON and closes; other traffic is unaffected',
    async () => {
      const h = await startFuzzHerald({
        args: ['--body-timeout', '1', '--headers-timeout', '1', '--stream-idle-timeout', '1'],
      });
      try {
        const head = (path: string, type = 'application/json') =>
          `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: ${type}\r\n`;
        const trickle = (bytes: Buffer, everyMs: number): Piece[] =>
          [...bytes].flatMap((b) => [everyMs, Buffer.from([b])]);
        const body = Buffer.from(JSON.stringify({ slow: 'x'.repeat(40) }));
        const cases: {
          cls: string;
          pieces: Piece[];
          method: string;
          path: string;
          want: number[];
          /** Fields the answer's JSON must have. */
          fields?: Record<string, unknown>;
        }[] = [];
        const variants = LONG ? 12 : 3;
        for (let i = 0; i < variants; i++) {
          const every = 250 + i * 50;
          cases.push({
            cls: 'slow-body /publish',
            pieces: [
              Buffer.from(
                `${head('/v1/realtime/publish?channel=slow&topic=t')}Content-Length: ${body.length}\r\n\r\n`,
              ),
              ...trickle(body, every),
            ],
            method: 'POST',
            path: '/v1/realtime/publish',
            want: [408],
          });
          cases.push({
            cls: 'slow-body /token',
            pieces: [
              Buffer.from(`${head('/v1/realtime/token')}Content-Length: ${body.length}\r\n\r\n`),
              ...trickle(body, every),
            ],
            method: 'POST',
            path: '/v1/realtime/token',
            want: [408],
          });
          cases.push({
            cls: 'slow-head',
            pieces: trickle(
              Buffer.from('GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaa\r\n\r\n'),
              every,
            ),
            method: 'GET',
            path: '/health',
            want: [408],
          });
          cases.push({
            cls: 'idle-stream /publish text/stream',
            pieces: [
              Buffer.from(
                `${head('/v1/realtime/publish?channel=slow&topic=s', 'text/stream')}Transfer-Encoding: chunked\r\n\r\n`,
              ),
              Buffer.from('3\r\nabc\r\n'),
              2_500,
              Buffer.from('3\r\ndef\r\n0\r\n\r\n'),
            ],
            method: 'POST',
            path: '/v1/realtime/publish',
            want: [408],
            // The stream was published and ended where the body stopped (protocol.md).
            fields: { status: 408, truncated: true, reason: 'idle', chunks: 1, bytes: 3 },
          });
        }
        const feed = await ControlFeed.open(h);
        const results = await Promise.all(
          cases.map(async (c) => {
            await tally.try(c.cls);
            const ex = await exchange(h.port, c.pieces, { method: c.method, answerMs: 15_000 });
            judge(c.cls, { pieces: c.pieces, method: c.method, path: c.path, framed: true }, ex);
            const statuses = ex.responses.map((r) => r.status);
            if (statuses.length !== 1 || !c.want.includes(statuses[0] as number))
              tally.violation(
                c.cls,
                `expected ${c.want.join('/')}, got [${statuses.join(', ')}]`,
                printable(c.pieces),
              );
            else if (c.fields) {
              const body = JSON.parse((ex.responses[0]?.body ?? '{}').toString()) as Record<string, unknown>;
              for (const [k, v] of Object.entries(c.fields))
                if (body[k] !== v)
                  tally.violation(
                    c.cls,
                    `answer's ${k} is ${JSON.stringify(body[k])}, expected ${v}`,
                    printable(c.pieces),
                  );
            }
            return ex;
          }),
        );
        // While the slow clients were held, valid traffic went through.
        for (let i = 0; i < 5; i++) await feed.publishNext();
        const control = await feed.verify();
        feed.close();
        expect(control.problems).toEqual([]);
        expect(results.every((ex) => ex.closed)).toBe(true);
        expect(h.alive()).toBe(true);
        expect(violationsOf('slow-').concat(violationsOf('idle-'))).toEqual([]);
      } finally {
        await h.stop();
      }
    },
    timeoutMs(60_000),
  );
});

describe('after the fuzz', () => {
  it(
    'delivered every interleaved control message intact, left no connections behind, and kept its heap',
    async () => {
      expect(targets.length).toBe(2);
      tally.extra.heap = {};
      const problems: string[] = [];
      for (const t of targets) {
        const control = await t.feed.verify();
        tally.control.sent += t.feed.count;
        for (const [who, n] of Object.entries(control.received))
          tally.control.received[`${t.name}.${who}`] = n;
        problems.push(...control.problems.map((p) => `${t.name}: ${p}`));
        // History and idempotency keys of the fuzz expire after 2 s (startFuzzHerald); then compare.
        await sleep(3_000);
        const after = await settleTo(t.h.url, t.baseline);
        for (const k of ['connections', 'subscriptions', 'channels'] as const)
          if (after[k] !== t.baseline[k])
            problems.push(`${t.name}: ${k} ${after[k]} after the fuzz, ${t.baseline[k]} before`);
        const heapAfter = await t.h.heapAfterGc();
        (tally.extra.heap as Record<string, unknown>)[t.name] = {
          beforeMiB: mib(t.heapBefore),
          afterMiB: mib(heapAfter),
        };
        // Generous: the fuzz legitimately leaves caches and compiled code; a leak of what it sent grows past this.
        const bound = t.heapBefore + 16 * 1024 * 1024;
        if (heapAfter > bound)
          problems.push(
            `${t.name}: heap ${mib(heapAfter)} MiB after the fuzz, ${mib(t.heapBefore)} MiB before`,
          );
        if (!t.h.alive()) problems.push(`${t.name}: the process exited`);
        const errors = serverErrors(t.h.output());
        tally.extra[`${t.name}ErrorLogLines`] = errors.length;
        if (errors.length > 0) problems.push(`${t.name}: logged errors:\n${errors.slice(0, 5).join('\n')}`);
      }
      expect(problems).toEqual([]);
      expect(tally.crashes).toBe(0);
      expect(tally.violationCount).toBe(0);
    },
    timeoutMs(90_000),
  );
});

const mib = (b: number) => Math.round((b / 1024 / 1024) * 10) / 10;
