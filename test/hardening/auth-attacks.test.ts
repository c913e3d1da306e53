/**
 * Auth attacks against real `herald start` processes, enumerated and counted. Each attack is tried
 * on every endpoint where it applies — WebSocket connect, SSE, a `sub` frame on an open connection,
 * `/token`, `/publish`, `/publish/tee`, `/v1/admin/stats` — and every attempt must be refused
 * (a 4xx JSON answer, or `sub` → `ok:false`, or the documented close code), never a 5xx, with nothing
 * delivered to the attacker, an answer that names no secret and does not say which check failed,
 * and a server log line giving the specific reason, the route, the client IP and the request id.
 * Then: no credential appears anywhere in a trace-level log, request ids, and the auth-failure
 * limit (429 even with the right key, WebSocket and `sub` frames included).
 *
 * Prints a table (attack → attempts → refused) and writes test-results/hardening/auth-attacks.json.
 * test/server/auth.test.ts covers the accepted forms of keys and the refusal messages one by one.
 */
import { createHash, createHmac, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { resolveConfig } from '../../packages/server/src/config.js';
import {
  bearer,
  claims,
  DEFAULT_ENV,
  eventually,
  frameWhere,
  JWT_SECRET,
  SIGNING_KEY,
  SIGNING_KEY_HASHED,
  stopClean,
  topicsOf,
} from '../server/helpers.js';
import { FrameCollector, mintToken } from '../support/client.js';
import { type HeraldProcess, startHerald } from '../support/herald.js';

// ---------------------------------------------------------------------------------------------
// Credentials

const strip = (key: string) => key.replace(/^signkey-\w+-/, '');
const sdkHash = (key: string) => {
  const prefix = /^signkey-\w+-/.exec(key)?.[0] ?? '';
  return (
    prefix +
    createHash('sha256')
      .update(Buffer.from(strip(key), 'hex'))
      .digest('hex')
  );
};
const WRONG_KEY = 'signkey-test-0badc0ffee0badc0ffee';
const OTHER_ENV = '00000000-0000-4000-b000-0000000000ee';

/** Everything an answer or a log line must never contain. */
const SECRETS = [SIGNING_KEY, strip(SIGNING_KEY), SIGNING_KEY_HASHED, strip(SIGNING_KEY_HASHED), JWT_SECRET];

const b64url = (v: string | Buffer) => Buffer.from(v).toString('base64url');
const HMAC = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' } as const;

/** A compact JWS made exactly as asked: any `alg`, HMAC or a real RSA/EC key, or none. */
function jws(
  payload: unknown,
  o: {
    alg?: string;
    header?: Record<string, unknown>;
    secret?: string | Buffer;
    key?: KeyObject;
    signature?: string;
  } = {},
): string {
  const alg = o.alg ?? 'HS256';
  const input = `${b64url(JSON.stringify({ alg, typ: 'JWT', ...o.header }))}.${b64url(JSON.stringify(payload))}`;
  if (o.signature !== undefined) return `${input}.${o.signature}`;
  if (alg === 'none') return `${input}.`;
  if (alg === 'RS256') return `${input}.${b64url(sign('sha256', Buffer.from(input), o.key as KeyObject))}`;
  if (alg === 'ES256')
    return `${input}.${b64url(sign('sha256', Buffer.from(input), { key: o.key as KeyObject, dsaEncoding: 'ieee-p1363' }))}`;
  const h = HMAC[alg as keyof typeof HMAC] ?? 'sha256';
  return `${input}.${b64url(
    createHmac(h, o.secret ?? JWT_SECRET)
      .update(input)
      .digest(),
  )}`;
}

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const RSA_PUBLIC_PEM = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string;

// ---------------------------------------------------------------------------------------------
// The victim, and what an attacker's token would ask for

const VICTIM = 'Victim-caf\u00e9';
const VICTIM_TOPIC = 'secret';
const now = () => Math.floor(Date.now() / 1000);
/** Claims of a subscription token for the victim's topic (what a forger wants). */
const wantVictim = (over: Record<string, unknown> = {}) =>
  claims({ topics: topicsOf(VICTIM, [VICTIM_TOPIC]), ...over });
/** Claims of a publish token (what a forger of publish rights wants). */
const wantPublish = (over: Record<string, unknown> = {}) => claims({ publish: true, topics: null, ...over });

type Endpoint = 'ws' | 'sse' | 'sub' | 'token' | 'publish' | 'tee' | 'admin';
const SUBSCRIBE: Endpoint[] = ['ws', 'sse', 'sub'];
const SERVER: Endpoint[] = ['token', 'publish', 'tee', 'admin'];
const ALL: Endpoint[] = [...SUBSCRIBE, ...SERVER];

/**
 * - key: guesses of the signing key (every answer on one endpoint must be the same);
 * - forgery: JWTs made without the JWT secret (every answer on one endpoint must be the same);
 * - claims: correctly signed JWTs with claims Herald refuses (these may say what is wrong);
 * - misuse: a real credential where it does not belong;
 * - shape: malformed or oversized credentials.
 */
type Family = 'key' | 'forgery' | 'claims' | 'misuse' | 'shape';

interface Attack {
  name: string;
  family: Family;
  endpoints: Endpoint[];
  /** The credential presented; `endpoint` lets publish-side attempts carry publish claims. */
  credential: (endpoint: Endpoint) => string;
  /**
   * The reason the server must log (when the answer is a 401) where a JWT is verified; `/token`
   * and the admin API take only the signing key, so there anything else is a wrong signing key.
   */
  reason?: RegExp;
}

function expectedReason(attack: Attack, endpoint: Endpoint): RegExp | undefined {
  if ((endpoint === 'token' || endpoint === 'admin') && attack.family !== 'misuse')
    return /wrong signing key/;
  return attack.reason;
}

/** The subscription token a legitimate client got, and a publish JWT; set in beforeAll. */
let realSubToken = '';
const realPublishJwt = () => jws(wantPublish());
const claimsFor = (e: Endpoint, over: Record<string, unknown> = {}) =>
  e === 'publish' || e === 'tee' ? wantPublish(over) : wantVictim(over);

const ATTACKS: Attack[] = [
  // Forged HMAC
  {
    name: 'forged HMAC: wrong secret',
    family: 'forgery',
    endpoints: ALL,
    credential: (e) => jws(claimsFor(e), { secret: 'guessed-secret' }),
    reason: /signature mismatch/,
  },
  {
    name: 'forged HMAC: flipped signature byte',
    family: 'forgery',
    endpoints: ALL,
    credential: (e) => {
      const [h, p, s] = jws(claimsFor(e)).split('.') as [string, string, string];
      const sig = Buffer.from(s, 'base64url');
      sig[5] = (sig[5] as number) ^ 0x01;
      return `${h}.${p}.${b64url(sig)}`;
    },
    reason: /signature mismatch/,
  },
  {
    name: 'tampered payload under a real signature',
    family: 'forgery',
    endpoints: ALL,
    credential: (e) => {
      const [h, , s] = jws(claims({ topics: topicsOf('harmless', ['t']) })).split('.');
      return `${h}.${b64url(JSON.stringify(claimsFor(e)))}.${s}`;
    },
    reason: /signature mismatch/,
  },
  // Algorithms
  {
    name: 'alg none, no signature',
    family: 'forgery',
    endpoints: ALL,
    credential: (e) => jws(claimsFor(e), { alg: 'none' }),
    reason: /alg not allowed/,
  },
  {
    name: 'alg none, with an HS256 signature',
    family: 'forgery',
    endpoints: ALL,
    credential: (e) => {
      const s = jws(claimsFor(e)).split('.')[2];
      return jws(claimsFor(e), { alg: 'none', signature: s as string });
    },
    reason: /alg not allowed/,
  },
  {
    name: 'alg NONE (case variant)',
    family: 'forgery',
    endpoints: ALL,
    credential: (e) => jws(claimsFor(e), { alg: 'NONE', signature: '' }),
    reason: /alg not allowed/,
  },
  {
    name: 'alg RS256, signed with a real RSA key',
    family: 'forgery',
    endpoints: ALL,
    credential: (e) => jws(claimsFor(e), { alg: 'RS256', key: rsa.privateKey }),
    reason: /alg not allowed/,
  },
  {
    name: 'alg ES256, signed with a real EC key',
    family: 'forgery',
    endpoints: ALL,
    credential: (e) => jws(claimsFor(e), { alg: 'ES256', key: ec.privateKey }),
    reason: /alg not allowed/,
  },
  {
    name: 'key confusion: HS256 keyed with an RSA public key',
    family: 'forgery',
    endpoints: ALL,
    credential: (e) => jws(claimsFor(e), { secret: RSA_PUBLIC_PEM }),
    reason: /signature mismatch/,
  },
  {
    name: 'alg HS512 with the right secret (only HS256 is issued)',
    family: 'forgery',
    endpoints: ALL,
    credential: (e) => jws(claimsFor(e), { alg: 'HS512' }),
    reason: /alg not allowed/,
  },
  {
    name: 'alg HS384 with the right secret',
    family: 'forgery',
    endpoints: ALL,
    credential: (e) => jws(claimsFor(e), { alg: 'HS384' }),
    reason: /alg not allowed/,
  },
  {
    name: 'a critical header Herald does not know',
    family: 'forgery',
    endpoints: ALL,
    credential: (e) => jws(claimsFor(e), { header: { crit: ['x-herald'], 'x-herald': 1 } }),
    reason: /unsupported header/,
  },
  {
    name: 'a dev-mode token (Inngest dev secret)',
    family: 'forgery',
    endpoints: ALL,
    credential: (e) => jws(claimsFor(e), { secret: 'dev-mode-is-not-secret' }),
    reason: /signature mismatch/,
  },
  // Time and issuer (correctly signed: the answer may say what is wrong)
  {
    name: 'expired',
    family: 'claims',
    endpoints: ALL,
    credential: (e) => jws(claimsFor(e, { exp: now() - 5, iat: now() - 65 })),
    reason: /expired/,
  },
  {
    name: 'not yet valid (nbf in the future)',
    family: 'claims',
    endpoints: ALL,
    credential: (e) => jws(claimsFor(e, { nbf: now() + 3600 })),
    reason: /not yet valid/,
  },
  {
    name: 'issued far in the future (iat)',
    family: 'claims',
    endpoints: ALL,
    credential: (e) => jws(claimsFor(e, { iat: now() + 86_400, exp: now() + 86_460 })),
    reason: /issued in the future/,
  },
  {
    name: 'wrong iss',
    family: 'claims',
    endpoints: ALL,
    credential: (e) => jws(claimsFor(e, { iss: 'evil.example.com' })),
    reason: /claim iss invalid/,
  },
  {
    name: 'no iss',
    family: 'claims',
    endpoints: ALL,
    credential: (e) => jws(claimsFor(e, { iss: undefined })),
    reason: /claim iss invalid/,
  },
  {
    name: 'no exp',
    family: 'claims',
    endpoints: ALL,
    credential: (e) => jws(claimsFor(e, { exp: undefined })),
    reason: /claim exp invalid/,
  },
  // Environments
  {
    name: "token of env B naming env A's topic",
    family: 'claims',
    endpoints: SUBSCRIBE,
    credential: () => jws(claims({ env: OTHER_ENV, topics: topicsOf(VICTIM, [VICTIM_TOPIC], DEFAULT_ENV) })),
    reason: /topic env differs/,
  },
  {
    name: 'token of env B in a sub frame on an env A connection',
    family: 'claims',
    endpoints: ['sub'],
    credential: () => jws(claims({ env: OTHER_ENV, topics: topicsOf(VICTIM, [VICTIM_TOPIC], OTHER_ENV) })),
    reason: /token env differs/,
  },
  // A real credential in the wrong place
  {
    name: 'subscription token on a server endpoint',
    family: 'misuse',
    endpoints: SERVER,
    credential: () => realSubToken,
    reason: /realtime token used to mint|subscription token used to publish|wrong signing key/,
  },
  {
    name: 'publish JWT on /token or the admin API',
    family: 'misuse',
    endpoints: ['token', 'admin'],
    credential: () => realPublishJwt(),
    reason: /realtime token used to mint|wrong signing key/,
  },
  {
    name: 'the signing key as a subscription token',
    family: 'misuse',
    endpoints: SUBSCRIBE,
    credential: () => SIGNING_KEY,
    reason: /malformed/,
  },
  {
    name: 'the hashed signing key as a subscription token',
    family: 'misuse',
    endpoints: SUBSCRIBE,
    credential: () => SIGNING_KEY_HASHED,
    reason: /malformed/,
  },
  // Signing-key guesses
  ...(
    [
      ['a wrong key with the right prefix', WRONG_KEY],
      ['a wrong key with another env prefix', 'signkey-prod-0123456789abcdef0123'],
      ['the key one byte short', SIGNING_KEY.slice(0, -2)],
      ['the key one byte long', `${SIGNING_KEY}00`],
      ['the key with its last digit changed', `${SIGNING_KEY.slice(0, -1)}7`],
      ['the hash of a wrong key', sdkHash(WRONG_KEY)],
      ['the hash of the hash', sdkHash(SIGNING_KEY_HASHED)],
      ['the hashed key one digit off', `${SIGNING_KEY_HASHED.slice(0, -1)}d`],
      ['the prefix alone', 'signkey-test-'],
      ['a non-hex key', 'signkey-test-zz11'],
      ['the JWT secret as a signing key', JWT_SECRET],
    ] as const
  ).map(
    ([name, key]): Attack => ({
      name: `signing key: ${name}`,
      family: 'key',
      endpoints: SERVER,
      credential: () => key,
      reason: /wrong signing key/,
    }),
  ),
  // Shapes
  {
    name: 'malformed: 2 parts',
    family: 'shape',
    endpoints: ALL,
    credential: (e) => jws(claimsFor(e)).split('.').slice(0, 2).join('.'),
    reason: /malformed|wrong signing key/,
  },
  {
    name: 'malformed: 4 parts',
    family: 'shape',
    endpoints: ALL,
    credential: (e) => `${jws(claimsFor(e))}.AAAA`,
    reason: /malformed|wrong signing key/,
  },
  {
    name: 'malformed: bad base64',
    family: 'shape',
    endpoints: ALL,
    credential: (e) => {
      const [h, p, s] = jws(claimsFor(e)).split('.');
      return `${h}.${p?.slice(0, 10)}*%${p?.slice(10)}.${s}`;
    },
    // The signature is checked over the text as sent, before the payload is decoded.
    reason: /signature mismatch|malformed|wrong signing key/,
  },
  {
    name: 'malformed: header not JSON',
    family: 'shape',
    endpoints: ALL,
    credential: (e) => {
      const [, p, s] = jws(claimsFor(e)).split('.');
      return `${b64url('{"alg":"HS256"')}.${p}.${s}`;
    },
    reason: /malformed|wrong signing key/,
  },
  {
    name: 'malformed: JSON array as payload (signed)',
    family: 'shape',
    endpoints: ALL,
    credential: () => jws([wantVictim()]),
    reason: /malformed/,
  },
  {
    name: 'malformed: JSON string as payload (signed)',
    family: 'shape',
    endpoints: ALL,
    credential: () => jws('all topics'),
    reason: /malformed/,
  },
  {
    name: 'huge header (8 KiB, forged)',
    family: 'shape',
    endpoints: ALL,
    credential: (e) => jws(claimsFor(e), { header: { pad: 'x'.repeat(8192) }, secret: 'guessed' }),
    reason: /signature mismatch/,
  },
  {
    // Over the 16 KiB request head and the 32 KiB client frame: 431, or close 1009 for a sub frame.
    name: 'huge payload (400 topics, forged)',
    family: 'shape',
    endpoints: ALL,
    credential: () =>
      jws(
        claims({
          topics: topicsOf(
            VICTIM,
            Array.from({ length: 400 }, (_, i) => `t${i}`),
          ),
        }),
        {
          secret: 'guessed',
        },
      ),
  },
];

// ---------------------------------------------------------------------------------------------
// Trying a credential on an endpoint

interface Outcome {
  /** The status (HTTP), `sub:false` / `sub:true`, `close <code>`, or `open` (accepted!). */
  status: string;
  refused: boolean;
  error?: string;
  /** The whole answer as the client saw it (body or reply frame). */
  text: string;
  requestId: string;
}

let ridCounter = 0;
const nextRid = () => `atk-${++ridCounter}-${process.pid}`;

function httpCall(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; localAddress?: string } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve) => {
    const req = http.request(
      url,
      {
        method: init.method ?? 'GET',
        headers: init.headers ?? {},
        agent: false,
        ...(init.localAddress ? { localAddress: init.localAddress } : {}),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
          // An SSE stream that opened is an accepted attack: stop reading at once.
          if (res.statusCode === 200 && res.headers['content-type']?.startsWith('text/event-stream'))
            req.destroy();
        });
        const done = () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text });
        res.on('end', done);
        res.on('close', done);
      },
    );
    // An oversized request may be cut before its answer is read: refused, not accepted.
    req.on('error', (err) => resolve({ status: 0, headers: {}, text: `reset: ${err.message}` }));
    req.end(init.body);
  });
}

function wsDial(
  wsUrl: string,
  token: string,
  o: { requestId?: string; localAddress?: string } = {},
): Promise<{ status: string; headers: http.IncomingHttpHeaders; text: string; ws?: WebSocket }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${wsUrl}/v1/realtime/connect?token=${encodeURIComponent(token)}`, {
      headers: o.requestId ? { 'X-Request-Id': o.requestId } : {},
      ...(o.localAddress ? { localAddress: o.localAddress } : {}),
    });
    let headers: http.IncomingHttpHeaders = {};
    ws.on('upgrade', (res) => {
      headers = res.headers;
    });
    ws.on('open', () => resolve({ status: 'open', headers, text: '', ws }));
    ws.on('error', (err) => resolve({ status: `error ${err.message}`, headers, text: '' }));
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (d: Buffer) => {
        text += d.toString();
      });
      res.on('end', () => resolve({ status: String(res.statusCode), headers: res.headers, text }));
    });
  });
}

/** An open connection of the attacker's own (a legitimate token for its own channel). */
class SubConnection {
  private c: FrameCollector | undefined;
  private nextId = 0;
  readonly requestId = `attacker-conn-${process.pid}`;
  /** Every frame that arrived on any of the attacker's connections. */
  readonly received: { channel?: string; kind: string; data?: unknown }[] = [];
  opened = 0;

  constructor(
    private readonly herald: HeraldProcess,
    readonly channel: string,
  ) {}

  async conn(): Promise<FrameCollector> {
    if (this.c && this.c.closeCode === undefined) return this.c;
    const token = await mintToken(this.herald.url, this.channel, ['t'], bearer(SIGNING_KEY));
    this.c = await FrameCollector.connect(this.herald.wsUrl, token, {
      headers: { 'X-Request-Id': this.requestId },
    });
    this.opened++;
    const c = this.c;
    c.ws.on('message', () => {
      const f = c.frames[c.frames.length - 1];
      if (f) this.received.push({ channel: f.channel, kind: f.kind, data: f.data });
    });
    return c;
  }

  async sub(token: string): Promise<Outcome> {
    const c = await this.conn();
    const id = `sub-${++this.nextId}`;
    c.ws.send(JSON.stringify({ kind: 'sub', data: token, id }));
    // frameWhere fails when the socket closes (a frame over the limit gets 1009).
    const reply = await frameWhere(c, (f) => f.kind === 'sub' && f.id === id, `the reply to ${id}`).catch(
      () => undefined,
    );
    if (reply === undefined)
      return { status: `close ${c.closeCode}`, refused: true, text: '', requestId: this.requestId };
    const data = reply.data as { ok: boolean; error?: string };
    return {
      status: `sub:${data.ok}`,
      refused: !data.ok,
      error: data.error,
      text: JSON.stringify(reply),
      requestId: this.requestId,
    };
  }

  close(): void {
    this.c?.close();
  }
}

function httpOutcome(
  r: { status: number; headers: http.IncomingHttpHeaders; text: string },
  rid: string,
): Outcome {
  if (r.status === 0) return { status: 'reset', refused: true, text: r.text, requestId: rid };
  let error: string | undefined;
  try {
    error = (JSON.parse(r.text) as { error?: string }).error;
  } catch {
    error = undefined;
  }
  return {
    status: String(r.status),
    refused: r.status >= 400 && r.status < 500,
    error,
    text: r.text,
    requestId: (r.headers['x-request-id'] as string | undefined) ?? rid,
  };
}

async function attempt(
  herald: HeraldProcess,
  sub: SubConnection,
  endpoint: Endpoint,
  credential: string,
): Promise<Outcome> {
  const rid = nextRid();
  const auth = { Authorization: `Bearer ${credential}`, 'X-Request-Id': rid };
  const victimQuery = `channel=${encodeURIComponent(VICTIM)}&topic=${VICTIM_TOPIC}`;
  switch (endpoint) {
    case 'ws': {
      const r = await wsDial(herald.wsUrl, credential, { requestId: rid });
      r.ws?.close();
      const refused = /^4\d\d$/.test(r.status) || /^error .*(ECONNRESET|EPIPE|socket hang up)/.test(r.status);
      let error: string | undefined;
      try {
        error = (JSON.parse(r.text) as { error?: string }).error;
      } catch {
        error = undefined;
      }
      return { status: r.status, refused, error, text: r.text, requestId: rid };
    }
    case 'sse': {
      const r = await httpCall(`${herald.url}/v1/realtime/sse?token=${encodeURIComponent(credential)}`, {
        headers: { 'X-Request-Id': rid },
      });
      return httpOutcome(r, rid);
    }
    case 'sub':
      return sub.sub(credential);
    case 'token':
      return httpOutcome(
        await httpCall(`${herald.url}/v1/realtime/token`, {
          method: 'POST',
          headers: { ...auth, 'Content-Type': 'application/json' },
          body: JSON.stringify([{ channel: VICTIM, name: VICTIM_TOPIC }]),
        }),
        rid,
      );
    case 'publish':
      return httpOutcome(
        await httpCall(`${herald.url}/v1/realtime/publish?${victimQuery}`, {
          method: 'POST',
          headers: { ...auth, 'Content-Type': 'application/json' },
          body: '"attack"',
        }),
        rid,
      );
    case 'tee':
      return httpOutcome(
        await httpCall(`${herald.url}/v1/realtime/publish/tee?channel=${encodeURIComponent(VICTIM)}`, {
          method: 'POST',
          headers: auth,
          body: 'attack',
        }),
        rid,
      );
    case 'admin':
      return httpOutcome(await httpCall(`${herald.url}/v1/admin/stats`, { headers: auth }), rid);
  }
}

// ---------------------------------------------------------------------------------------------
// Logs

interface LogLine {
  level: number;
  msg: string;
  reqId?: string;
  ip?: string;
  route?: string;
  reason?: string;
  [k: string]: unknown;
}

function logLines(herald: HeraldProcess): LogLine[] {
  const out: LogLine[] = [];
  for (const line of herald.output().split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as LogLine);
    } catch {
      // not a log line
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The run

interface Row {
  attack: string;
  family: Family;
  attempts: number;
  refused: number;
  statuses: Record<string, number>;
}

const results = {
  matrix: [] as Row[],
  scope: [] as Row[],
  totals: { attempts: 0, refused: 0, serverErrors: 0, accepted: 0, deliveredToAttacker: 0 },
  logs: { refusalsChecked: 0, withReasonRouteIpAndId: 0, reasons: {} as Record<string, number> },
  redaction: { credentialsChecked: 0, logBytes: 0, occurrences: 0 },
  requestIds: { checked: 0, ok: 0 },
  limiter: { limit: 0, refusedWith429: 0, otherIpUnaffected: false, retryAfterSeconds: 0 },
};

let herald: HeraldProcess;
let traced: HeraldProcess;
let limited: HeraldProcess;
const START_ARGS = ['--signing-key', SIGNING_KEY, '--jwt-secret', JWT_SECRET];

beforeAll(async () => {
  [herald, traced, limited] = await Promise.all([
    startHerald({
      mode: 'start',
      args: [...START_ARGS, '--auth-failure-limit', '0'],
      env: { HERALD_LOG_LEVEL: 'info' },
    }),
    startHerald({
      mode: 'start',
      args: [...START_ARGS, '--auth-failure-limit', '0'],
      env: { HERALD_LOG_LEVEL: 'trace' },
    }),
    startHerald({
      mode: 'start',
      args: [...START_ARGS, '--auth-failure-limit', '5'],
      env: { HERALD_LOG_LEVEL: 'info' },
    }),
  ]);
  realSubToken = await mintToken(herald.url, VICTIM, [VICTIM_TOPIC], bearer(SIGNING_KEY));
});

afterAll(async () => {
  const table = [...results.matrix, ...results.scope];
  const width = Math.max(...table.map((r) => r.attack.length), 10);
  const lines = [
    `${'attack'.padEnd(width)}  attempts  refused  statuses`,
    ...table.map(
      (r) =>
        `${r.attack.padEnd(width)}  ${String(r.attempts).padStart(8)}  ${String(r.refused).padStart(7)}  ${Object.entries(
          r.statuses,
        )
          .map(([s, n]) => `${s}×${n}`)
          .join(' ')}`,
    ),
    `${'total'.padEnd(width)}  ${String(results.totals.attempts).padStart(8)}  ${String(results.totals.refused).padStart(7)}  5xx: ${results.totals.serverErrors}, accepted: ${results.totals.accepted}, delivered to attacker: ${results.totals.deliveredToAttacker}`,
    `logs: ${results.logs.withReasonRouteIpAndId}/${results.logs.refusalsChecked} refusals logged with reason, route, IP and request id`,
    `redaction: ${results.redaction.credentialsChecked} credentials searched in ${results.redaction.logBytes} bytes of trace log: ${results.redaction.occurrences} found`,
    `auth-failure limit ${results.limiter.limit}/min: ${results.limiter.refusedWith429} requests refused with 429 (Retry-After ${results.limiter.retryAfterSeconds} s); another IP unaffected: ${results.limiter.otherIpUnaffected}`,
  ];
  console.log(`\nAuth attacks against herald start\n${lines.join('\n')}\n`);
  mkdirSync('test-results/hardening', { recursive: true });
  writeFileSync(
    'test-results/hardening/auth-attacks.json',
    `${JSON.stringify({ suite: 'auth-attacks', date: new Date().toISOString(), ...results }, null, 2)}\n`,
  );
  await stopClean(herald, traced, limited);
});

/** Runs every attack on every endpoint it applies to; returns the outcomes. */
async function runMatrix(target: HeraldProcess) {
  const sub = new SubConnection(target, `attacker-${process.pid}-${target.port}`);
  // A legitimate subscriber of the victim's topic: it must receive only what its owner publishes.
  const victimToken = await mintToken(target.url, VICTIM, [VICTIM_TOPIC], bearer(SIGNING_KEY));
  const victim = await FrameCollector.connect(target.wsUrl, victimToken);
  const outcomes: { attack: Attack; endpoint: Endpoint; credential: string; outcome: Outcome }[] = [];
  for (const attack of ATTACKS) {
    for (const endpoint of attack.endpoints) {
      const credential = attack.credential(endpoint);
      const outcome = await attempt(target, sub, endpoint, credential);
      outcomes.push({ attack, endpoint, credential, outcome });
    }
  }
  // Nothing reached anyone: the victim gets only its owner's marker, the attacker nothing of the victim.
  const markerQuery = `channel=${encodeURIComponent(VICTIM)}&topic=${VICTIM_TOPIC}`;
  const marker = await httpCall(`${target.url}/v1/realtime/publish?${markerQuery}`, {
    method: 'POST',
    headers: { ...bearer(SIGNING_KEY), 'Content-Type': 'application/json' },
    body: '"marker"',
  });
  expect(marker.status).toBe(200);
  await frameWhere(victim, (f) => f.data === 'marker');
  const attackerConn = await sub.conn();
  await httpCall(`${target.url}/v1/realtime/publish?channel=${encodeURIComponent(sub.channel)}&topic=t`, {
    method: 'POST',
    headers: { ...bearer(SIGNING_KEY), 'Content-Type': 'application/json' },
    body: '"own"',
  });
  await frameWhere(attackerConn, (f) => f.data === 'own');
  const victimGot = victim.frames.filter((f) => f.kind !== 'sub').map((f) => f.data);
  const attackerGot = sub.received.filter((f) => f.channel === VICTIM);
  victim.close();
  sub.close();
  return { outcomes, victimGot, attackerGot, subRequestId: sub.requestId };
}

describe('auth attacks on every endpoint', () => {
  it('refuses every attempt with a 4xx JSON answer (or sub ok:false / close 1009), never a 5xx, delivering nothing', async () => {
    const run = await runMatrix(herald);
    const rows = new Map<string, Row>();
    const problems: string[] = [];
    for (const { attack, endpoint, credential, outcome } of run.outcomes) {
      let row = rows.get(attack.name);
      if (row === undefined) {
        row = { attack: attack.name, family: attack.family, attempts: 0, refused: 0, statuses: {} };
        rows.set(attack.name, row);
      }
      row.attempts++;
      const status = `${endpoint} ${outcome.status}`;
      row.statuses[status] = (row.statuses[status] ?? 0) + 1;
      if (outcome.refused) row.refused++;
      else problems.push(`${attack.name} on ${endpoint}: ${outcome.status} ${outcome.text.slice(0, 200)}`);
      if (/^5\d\d$/.test(outcome.status)) results.totals.serverErrors++;
      if (outcome.status === 'open' || outcome.status === 'sub:true' || /^2\d\d$/.test(outcome.status))
        results.totals.accepted++;
      // HTTP refusals are JSON with their status; no answer names a secret or echoes the credential.
      if (/^4\d\d$/.test(outcome.status)) {
        let body: { status?: number; error?: string } = {};
        try {
          body = JSON.parse(outcome.text);
        } catch {
          problems.push(`${attack.name} on ${endpoint}: answer is not JSON: ${outcome.text.slice(0, 100)}`);
        }
        if (body.status !== Number(outcome.status) || typeof body.error !== 'string')
          problems.push(`${attack.name} on ${endpoint}: JSON error without status/error: ${outcome.text}`);
      }
      for (const s of [...SECRETS, credential])
        if (s.length >= 8 && outcome.text.includes(s))
          problems.push(`${attack.name} on ${endpoint}: the answer contains a secret or the credential`);
    }
    results.matrix = [...rows.values()];
    results.totals.deliveredToAttacker =
      run.victimGot.filter((d) => d !== 'marker').length + run.attackerGot.length;
    results.totals.attempts += run.outcomes.length;
    results.totals.refused += run.outcomes.filter((o) => o.outcome.refused).length;
    expect(problems).toEqual([]);
    expect(results.totals.serverErrors).toBe(0);
    expect(run.victimGot).toEqual(['marker']);
    expect(run.attackerGot).toEqual([]);

    // Non-revealing: on one endpoint, every guess of the key gets the same answer, and so does
    // every JWT made without the secret — the answer never says which part was right.
    for (const family of ['key', 'forgery'] as const)
      for (const endpoint of ALL) {
        const answers = new Set(
          run.outcomes
            .filter((o) => o.attack.family === family && o.endpoint === endpoint)
            .map((o) => o.outcome.error),
        );
        if (answers.size > 0) expect([...answers], `${family} answers on ${endpoint}`).toHaveLength(1);
      }

    // Server side: every 401 and refused sub frame has a log line with its specific reason.
    await eventually(
      () =>
        logLines(herald).filter((l) => l.msg === 'auth refused').length >=
        run.outcomes.filter((o) => o.outcome.status === '401' || o.outcome.status === 'sub:false').length,
      'every refusal to be logged',
    );
    const lines = logLines(herald).filter((l) => l.msg === 'auth refused');
    const byId = new Map<string, LogLine[]>();
    for (const l of lines) {
      const list = byId.get(l.reqId ?? '') ?? [];
      list.push(l);
      byId.set(l.reqId ?? '', list);
    }
    const subLines = (byId.get(run.subRequestId) ?? []).filter((l) => l.route === '/v1/realtime/connect sub');
    let subIndex = 0;
    const logProblems: string[] = [];
    for (const { attack, endpoint, outcome } of run.outcomes) {
      if (outcome.status !== '401' && outcome.status !== 'sub:false') continue;
      results.logs.refusalsChecked++;
      const line = endpoint === 'sub' ? subLines[subIndex++] : byId.get(outcome.requestId)?.[0];
      if (line === undefined) {
        logProblems.push(`${attack.name} on ${endpoint}: no log line for request ${outcome.requestId}`);
        continue;
      }
      const ok =
        typeof line.reason === 'string' &&
        line.reason.length > 0 &&
        line.ip === '127.0.0.1' &&
        typeof line.route === 'string' &&
        line.route.startsWith('/v1/') &&
        line.level >= 30 &&
        (expectedReason(attack, endpoint)?.test(line.reason) ?? true);
      if (ok) results.logs.withReasonRouteIpAndId++;
      else logProblems.push(`${attack.name} on ${endpoint}: log line ${JSON.stringify(line)}`);
      results.logs.reasons[line.reason as string] = (results.logs.reasons[line.reason as string] ?? 0) + 1;
    }
    expect(logProblems).toEqual([]);
  });

  it('gives a token for one channel or topic nothing of another that differs only by case or Unicode form', async () => {
    const variants: [string, string, string][] = [
      ['another topic of the same channel', VICTIM, 'public'],
      ['the same topic in another channel', 'Victim-other', VICTIM_TOPIC],
      ['channel differs by case', 'victim-caf\u00e9', VICTIM_TOPIC],
      ['channel in upper case', VICTIM.toUpperCase(), VICTIM_TOPIC],
      ['channel in NFD (e + combining accent)', 'Victim-cafe\u0301', VICTIM_TOPIC],
      ['channel with a trailing space', `${VICTIM} `, VICTIM_TOPIC],
      ['topic differs by case', VICTIM, 'Secret'],
      ['topic with a long s (NFKC-equal)', VICTIM, '\u017fecret'],
      ['topic with a zero-width space', VICTIM, 'sec\u200bret'],
    ];
    const owner = await FrameCollector.connect(
      herald.wsUrl,
      await mintToken(herald.url, VICTIM, [VICTIM_TOPIC], bearer(SIGNING_KEY)),
    );
    const ws: FrameCollector[] = [];
    const sse: SseStream[] = [];
    // An attacker's own connection, to which each variant is added by a sub frame.
    const viaSub = new SubConnection(herald, `attacker-sub-${process.pid}`);
    const subConn = await viaSub.conn();
    for (const [, channel, topic] of variants) {
      const token = await mintToken(herald.url, channel, [topic], bearer(SIGNING_KEY));
      ws.push(await FrameCollector.connect(herald.wsUrl, token));
      sse.push(await SseStream.open(herald.url, token));
      expect((await viaSub.sub(token)).status).toBe('sub:true');
    }
    // A token of env B for the victim's channel name subscribes to env B's channel, not env A's.
    const envB = jws(claims({ env: OTHER_ENV, topics: topicsOf(VICTIM, [VICTIM_TOPIC], OTHER_ENV) }));
    ws.push(await FrameCollector.connect(herald.wsUrl, envB));
    sse.push(await SseStream.open(herald.url, envB));

    for (const body of ['"v1"', '"v2"', '"v3"'])
      expect(
        (
          await httpCall(
            `${herald.url}/v1/realtime/publish?channel=${encodeURIComponent(VICTIM)}&topic=${VICTIM_TOPIC}`,
            {
              method: 'POST',
              headers: { ...bearer(SIGNING_KEY), 'Content-Type': 'application/json' },
              body,
            },
          )
        ).status,
      ).toBe(200);
    await frameWhere(owner, (f) => f.data === 'v3');
    // Each attacker then gets a message of its own: once it is there, the victim's would have been too.
    const rows: Row[] = [];
    const names = [...variants.map((v) => v[0]), 'token of env B for the same channel name'];
    for (let i = 0; i < names.length; i++) {
      const [, channel, topic] = variants[i] ?? [undefined, VICTIM, VICTIM_TOPIC];
      if (i < variants.length)
        await httpCall(
          `${herald.url}/v1/realtime/publish?channel=${encodeURIComponent(channel as string)}&topic=${encodeURIComponent(topic as string)}`,
          {
            method: 'POST',
            headers: { ...bearer(SIGNING_KEY), 'Content-Type': 'application/json' },
            body: '"yours"',
          },
        );
      else
        await httpCall(
          `${herald.url}/v1/realtime/publish?channel=${encodeURIComponent(VICTIM)}&topic=${VICTIM_TOPIC}`,
          {
            method: 'POST',
            headers: {
              Authorization: `Bearer ${jws(claims({ env: OTHER_ENV, publish: true, topics: null }))}`,
              'Content-Type': 'application/json',
            },
            body: '"yours"',
          },
        );
      const w = ws[i] as FrameCollector;
      const s = sse[i] as SseStream;
      await frameWhere(w, (f) => f.data === 'yours');
      await eventually(() => s.data().includes('yours'), 'the SSE attacker to get its own message');
      const leaked =
        w.frames.filter((f) => ['v1', 'v2', 'v3'].includes(f.data as string)).length +
        s.data().filter((d) => ['v1', 'v2', 'v3'].includes(d)).length;
      results.totals.deliveredToAttacker += leaked;
      rows.push({
        attack: `scope: ${names[i]}`,
        family: 'misuse',
        attempts: i < variants.length ? 3 : 2,
        refused: leaked === 0 ? (i < variants.length ? 3 : 2) : 0,
        statuses: leaked === 0 ? { 'nothing delivered': i < variants.length ? 3 : 2 } : { delivered: leaked },
      });
      expect(leaked, names[i]).toBe(0);
    }
    await eventually(
      () => viaSub.received.filter((f) => f.data === 'yours').length >= variants.length,
      'the sub-frame attacker to get its own messages',
    );
    expect(viaSub.received.filter((f) => ['v1', 'v2', 'v3'].includes(f.data as string))).toEqual([]);
    results.scope = rows;
    results.totals.attempts += rows.reduce((n, r) => n + r.attempts, 0);
    results.totals.refused += rows.reduce((n, r) => n + r.refused, 0);
    for (const c of [owner, ...ws]) c.close();
    for (const s of sse) s.close();
    subConn.close();
  });
});

describe('logs', () => {
  it('never contain a credential, even at trace level; URLs are logged with token=[redacted]', async () => {
    // Everything that carries a credential, done right and wrong.
    const token = await mintToken(traced.url, 'redaction', ['t'], bearer(SIGNING_KEY));
    const c = await FrameCollector.connect(traced.wsUrl, token, {
      headers: { 'X-Request-Id': 'redaction-ws' },
    });
    const pub = jws(wantPublish());
    const sse = await SseStream.open(traced.url, token);
    await httpCall(`${traced.url}/v1/realtime/publish?channel=redaction&topic=t&token=${pub}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '1',
    });
    await httpCall(`${traced.url}/v1/realtime/publish?channel=redaction&topic=t`, {
      method: 'POST',
      headers: { ...bearer(SIGNING_KEY_HASHED), 'Content-Type': 'application/json' },
      body: '2',
    });
    await httpCall(`${traced.url}/v1/admin/stats?key=${SIGNING_KEY}`, { headers: bearer(SIGNING_KEY) });
    await httpCall(`${traced.url}/v1/realtime/token?signing_key=${SIGNING_KEY}`, {
      method: 'POST',
      headers: { Authorization: SIGNING_KEY, Cookie: `session=${JWT_SECRET}` },
      body: '[]',
    });
    await frameWhere(c, (f) => f.data === 2);
    c.ws.send(JSON.stringify({ kind: 'sub', data: token, id: 1 }));
    await frameWhere(c, (f) => f.kind === 'sub');
    c.close();
    sse.close();
    const run = await runMatrix(traced);
    await eventually(
      () =>
        logLines(traced).some(
          (l) => l.msg === 'request' && String(l.path).includes('/v1/realtime/sse') && l.status === 200,
        ),
      'the SSE request to be logged',
    );

    const credentials = new Set<string>([...SECRETS, token, pub, realSubToken]);
    for (const o of run.outcomes) if (o.credential.length >= 12) credentials.add(o.credential);
    // The signature part alone would do as much harm as the whole token.
    for (const t of [...credentials])
      if (t.split('.').length === 3 && (t.split('.')[2] ?? '').length >= 16)
        credentials.add(t.split('.')[2] as string);
    const output = traced.output();
    const found = [...credentials].filter(
      (s) => output.includes(s) || output.includes(encodeURIComponent(s)),
    );
    results.redaction = {
      credentialsChecked: credentials.size,
      logBytes: output.length,
      occurrences: found.length,
    };
    expect(found.map((s) => `${s.slice(0, 24)}…`)).toEqual([]);

    // The request log has the method, the path with its token redacted, the status and the time.
    const requests = logLines(traced).filter((l) => l.msg === 'request');
    const sseLine = requests.find((l) => String(l.path).startsWith('/v1/realtime/sse?') && l.status === 200);
    expect(sseLine).toMatchObject({ method: 'GET', path: '/v1/realtime/sse?token=[redacted]', status: 200 });
    expect(typeof sseLine?.ms).toBe('number');
    expect(requests.find((l) => String(l.path).includes('channel=redaction&topic=t&token='))?.path).toBe(
      '/v1/realtime/publish?channel=redaction&topic=t&token=[redacted]',
    );
    const upgrade = logLines(traced).find((l) => l.msg === 'websocket upgrade' && l.reqId === 'redaction-ws');
    expect(upgrade?.path).toBe('/v1/realtime/connect?token=[redacted]');
    // Every line about a request carries its id.
    const unlabelled = logLines(traced).filter(
      (l) => ['request', 'auth refused', 'websocket upgrade', 'request refused'].includes(l.msg) && !l.reqId,
    );
    expect(unlabelled).toEqual([]);
  });
});

describe('request ids', () => {
  it('echoes a short printable X-Request-Id and replaces anything else; WebSocket upgrades too', async () => {
    const check = (ok: boolean) => {
      results.requestIds.checked++;
      if (ok) results.requestIds.ok++;
      return ok;
    };
    const given = await httpCall(`${herald.url}/health`, { headers: { 'X-Request-Id': 'my-id.42:x' } });
    expect(check(given.headers['x-request-id'] === 'my-id.42:x')).toBe(true);
    for (const bad of ['x'.repeat(65), 'has space', 'caf\u00e9']) {
      const r = await httpCall(`${herald.url}/health`, { headers: { 'X-Request-Id': bad } });
      expect(check(/^[0-9a-f]{8}-[0-9a-z]+$/.test(String(r.headers['x-request-id'])))).toBe(true);
    }
    const generated = await httpCall(`${herald.url}/v1/realtime/publish?channel=c&topic=t`, {
      method: 'POST',
      body: '1',
    });
    expect(generated.status).toBe(401);
    expect(check(/^[0-9a-f]{8}-[0-9a-z]+$/.test(String(generated.headers['x-request-id'])))).toBe(true);
    // The error body carries the same id, so a user can quote it from what their client logged.
    expect(check(JSON.parse(generated.text).requestId === generated.headers['x-request-id'])).toBe(true);
    const token = await mintToken(herald.url, 'ids', ['t'], bearer(SIGNING_KEY));
    const ok = await wsDial(herald.wsUrl, token, { requestId: 'ws-upgrade-1' });
    ok.ws?.close();
    expect(ok.status).toBe('open');
    expect(check(ok.headers['x-request-id'] === 'ws-upgrade-1')).toBe(true);
    const refused = await wsDial(herald.wsUrl, 'nope', { requestId: 'ws-upgrade-2' });
    expect(refused.status).toBe('401');
    expect(check(refused.headers['x-request-id'] === 'ws-upgrade-2')).toBe(true);
    expect(check(JSON.parse(refused.text).requestId === 'ws-upgrade-2')).toBe(true);
  });
});

describe('auth-failure limit', () => {
  it('defaults to 30 a minute in herald start and off in herald dev', () => {
    expect(resolveConfig('start', {}, {}).authFailureLimit).toBe(30);
    expect(resolveConfig('dev', {}, {}).authFailureLimit).toBe(0);
    expect(resolveConfig('start', {}, { HERALD_AUTH_FAILURE_LIMIT: '7' }).authFailureLimit).toBe(7);
  });

  it('refuses an IP with 429 and Retry-After after 5 guesses, even with the right key, WebSocket and sub frames included; other IPs are unaffected', async () => {
    results.limiter.limit = 5;
    const channel = 'limited';
    const token = await mintToken(limited.url, channel, ['t'], bearer(SIGNING_KEY));
    const open = await FrameCollector.connect(limited.wsUrl, token);
    const key = { ...bearer(SIGNING_KEY), 'Content-Type': 'application/json' };
    // Genuine tokens refused (expired, or a subscription token on /publish) are not guesses: a
    // client reconnecting with a stale token does not lock its address out.
    const expired = jws(claims({ topics: topicsOf(channel, ['t']), exp: now() - 5, iat: now() - 65 }));
    for (let i = 0; i < 10; i++) {
      expect((await wsDial(limited.wsUrl, expired)).status).toBe('401');
      const misuse = await httpCall(`${limited.url}/v1/realtime/publish?channel=${channel}&topic=t`, {
        method: 'POST',
        headers: { ...bearer(token), 'Content-Type': 'application/json' },
        body: '1',
      });
      expect(misuse.status).toBe(401);
    }
    const stillOk = await httpCall(`${limited.url}/v1/admin/stats`, { headers: key });
    expect(stillOk.status).toBe(200);
    // Five wrong keys from 127.0.0.1.
    for (let i = 0; i < 5; i++) {
      const r = await httpCall(`${limited.url}/v1/realtime/token`, {
        method: 'POST',
        headers: bearer(`${WRONG_KEY}${i}${i}`),
        body: '[]',
      });
      expect(r.status).toBe(401);
    }
    const tries: [
      string,
      Promise<{ status: number | string; headers: http.IncomingHttpHeaders; text: string }>,
    ][] = [
      [
        'token',
        httpCall(`${limited.url}/v1/realtime/token`, {
          method: 'POST',
          headers: key,
          body: '[{"channel":"c","name":"t"}]',
        }),
      ],
      [
        'publish',
        httpCall(`${limited.url}/v1/realtime/publish?channel=${channel}&topic=t`, {
          method: 'POST',
          headers: key,
          body: '"blocked"',
        }),
      ],
      [
        'tee',
        httpCall(`${limited.url}/v1/realtime/publish/tee?channel=${channel}`, {
          method: 'POST',
          headers: key,
          body: 'blocked',
        }),
      ],
      ['admin', httpCall(`${limited.url}/v1/admin/stats`, { headers: key })],
      ['sse', httpCall(`${limited.url}/v1/realtime/sse?token=${token}`)],
      ['ws', wsDial(limited.wsUrl, token).then((r) => ({ ...r, status: r.status }))],
    ];
    for (const [what, p] of tries) {
      const r = await p;
      expect(String(r.status), what).toBe('429');
      const retryAfter = Number(r.headers['retry-after']);
      expect(retryAfter, what).toBeGreaterThan(0);
      expect(retryAfter, what).toBeLessThanOrEqual(60);
      results.limiter.retryAfterSeconds = Math.max(results.limiter.retryAfterSeconds, retryAfter);
      expect(JSON.parse(r.text), what).toMatchObject({
        status: 429,
        error: expect.stringMatching(/Too many failed authentications/),
      });
      results.limiter.refusedWith429++;
    }
    // An open connection cannot go on guessing (or subscribing) through sub frames either.
    open.ws.send(JSON.stringify({ kind: 'sub', data: token, id: 'blocked' }));
    const reply = await frameWhere(open, (f) => f.kind === 'sub' && f.id === 'blocked');
    expect(reply.data).toMatchObject({
      ok: false,
      error: expect.stringMatching(/Too many failed authentications/),
    });
    results.limiter.refusedWith429++;
    // Routes without a credential still answer; another address is not affected.
    expect((await httpCall(`${limited.url}/health`)).status).toBe(200);
    const other = await httpCall(`${limited.url}/v1/realtime/publish?channel=${channel}&topic=t`, {
      method: 'POST',
      headers: key,
      body: '"from another address"',
      localAddress: '127.0.0.2',
    });
    expect(other.status).toBe(200);
    const otherWs = await wsDial(limited.wsUrl, token, { localAddress: '127.0.0.2' });
    expect(otherWs.status).toBe('open');
    otherWs.ws?.close();
    results.limiter.otherIpUnaffected = true;
    // The blocked publish delivered nothing; the other address's did.
    await frameWhere(open, (f) => f.data === 'from another address');
    expect(open.frames.filter((f) => f.data === 'blocked')).toEqual([]);
    open.close();
    // The block is logged once, at warn, with the limit.
    const blocked = logLines(limited).filter((l) => String(l.msg).startsWith('auth failure limit reached'));
    expect(blocked).toHaveLength(1);
    expect(blocked[0]).toMatchObject({ level: 40, ip: '127.0.0.1', limit: 5 });
    // Genuine refusals were logged at info, guesses at warn.
    const refusals = logLines(limited).filter((l) => l.msg === 'auth refused');
    expect(refusals.filter((l) => l.reason === 'expired').every((l) => l.level === 30)).toBe(true);
    expect(refusals.filter((l) => l.reason === 'wrong signing key').every((l) => l.level === 40)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------

/** A small SSE reader keeping the `data:` payloads (strings), over node:http. */
class SseStream {
  private text = '';
  private constructor(private readonly req: http.ClientRequest) {}

  static open(base: string, token: string): Promise<SseStream> {
    return new Promise((resolve, reject) => {
      const req = http.get(`${base}/v1/realtime/sse?token=${encodeURIComponent(token)}`, { agent: false });
      const s = new SseStream(req);
      req.on('response', (res) => {
        if (res.statusCode !== 200) reject(new Error(`SSE answered ${res.statusCode}`));
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          s.text += d;
        });
        resolve(s);
      });
      req.on('error', reject);
    });
  }

  /** The `data` of every message event, as the JSON string it carries (e.g. `yours`). */
  data(): string[] {
    const out: string[] = [];
    for (const line of this.text.split('\n')) {
      if (!line.startsWith('data: ')) continue;
      try {
        const e = JSON.parse(line.slice(6)) as { data?: unknown };
        out.push(typeof e.data === 'string' ? e.data : JSON.stringify(e.data));
      } catch {
        // not JSON
      }
    }
    return out;
  }

  close(): void {
    this.req.destroy();
  }
}
