/**
 * Auth against `herald start --signing-key … --signing-key-fallback …`: which signing keys are
 * accepted (§2.6, plus the fallback for rotation, F21), and attacks on subscription tokens —
 * forged, `alg: none`, expired, wrong issuer, wrong topic, and subscription JWTs used where a
 * signing key is needed (/token, F12; /publish). Every refusal is a JSON error.
 */
import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { FrameCollector, mintToken, publish } from '../support/client.js';
import { type HeraldProcess, startHerald } from '../support/herald.js';
import {
  bearer,
  claims,
  DEFAULT_ENV,
  decodeJwt,
  FALLBACK_KEY,
  frameWhere,
  JWT_SECRET,
  publishUrl,
  request,
  SIGNING_KEY,
  SIGNING_KEY_HASHED,
  SseClient,
  signJwt,
  stopClean,
  topicsOf,
} from './helpers.js';

let herald: HeraldProcess;
let dev: HeraldProcess;
const open: FrameCollector[] = [];

beforeAll(async () => {
  [herald, dev] = await Promise.all([
    startHerald({
      mode: 'start',
      args: [
        '--signing-key',
        SIGNING_KEY,
        '--signing-key-fallback',
        FALLBACK_KEY,
        '--jwt-secret',
        JWT_SECRET,
      ],
    }),
    startHerald(),
  ]);
});
afterAll(async () => {
  await stopClean(herald, dev);
});
afterEach(() => {
  for (const c of open.splice(0)) c.close();
});

/** The SDKs' hashSigningKey (§2.5): prefix kept, the rest hex-decoded and SHA-256'd. */
function sdkHash(key: string): string {
  const prefix = /^signkey-\w+-/.exec(key)?.[0] ?? '';
  return (
    prefix +
    createHash('sha256')
      .update(Buffer.from(key.slice(prefix.length), 'hex'))
      .digest('hex')
  );
}
const strip = (key: string) => key.replace(/^signkey-\w+-/, '');

let n = 0;
const uniqueChannel = () => `auth-${++n}-${Date.now()}`;

async function subscriber(channel: string, topics: string[]) {
  const c = await FrameCollector.connect(
    herald.wsUrl,
    await mintToken(herald.url, channel, topics, bearer(SIGNING_KEY)),
  );
  open.push(c);
  return c;
}

async function expect401(res: Response | Promise<Response>, pattern: RegExp): Promise<void> {
  const r = await res;
  const text = await r.text();
  expect(r.status, text).toBe(401);
  expect(r.headers.get('content-type')).toBe('application/json');
  const body = JSON.parse(text) as { error: string; status: number };
  expect(body.status).toBe(401);
  expect(body.error).toMatch(pattern);
}

const tokenRequest = (base: string, headers: Record<string, string>) =>
  fetch(`${base}/v1/realtime/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: '[{"channel":"c","name":"t","kind":"run"}]',
  });

/** Opens a WebSocket with `token` and resolves with the refusal's status and JSON body. */
function refusedDial(token: string) {
  return new Promise<{ status: number; body: { error: string; status: number } }>((resolve, reject) => {
    const ws = new WebSocket(`${herald.wsUrl}/v1/realtime/connect?token=${encodeURIComponent(token)}`);
    ws.on('open', () => {
      ws.close();
      reject(new Error('upgrade unexpectedly succeeded'));
    });
    ws.on('error', () => {});
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (d: Buffer) => {
        text += d.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
  });
}

describe('signing keys', () => {
  it('hashes the test key as the SDKs do (design.md test vector)', () => {
    expect(sdkHash(SIGNING_KEY)).toBe(SIGNING_KEY_HASHED);
  });

  const accepted: [string, string][] = [
    ['the raw key', SIGNING_KEY],
    ['the raw key without its prefix', strip(SIGNING_KEY)],
    ['the raw key with another prefix', `signkey-prod-${strip(SIGNING_KEY)}`],
    ['the hashed key (what the v3/v4 SDKs send)', SIGNING_KEY_HASHED],
    ['the hashed key without its prefix', strip(SIGNING_KEY_HASHED)],
    ['the hashed key with another prefix', `signkey-branch-${strip(SIGNING_KEY_HASHED)}`],
    ['the raw fallback key', FALLBACK_KEY],
    ['the hashed fallback key', sdkHash(FALLBACK_KEY)],
    ['the fallback key without its prefix', strip(FALLBACK_KEY)],
  ];
  for (const [what, key] of accepted) {
    it(`accepts ${what} on /token and /publish`, async () => {
      // §7.62, §7.63
      const t = await tokenRequest(herald.url, bearer(key));
      expect(t.status, await t.clone().text()).toBe(201);
      const p = await publish(herald.url, uniqueChannel(), 't', '1', { headers: bearer(key) });
      expect(p.status).toBe(200);
    });
  }

  it('accepts the Bearer scheme in any case', async () => {
    expect((await tokenRequest(herald.url, { Authorization: `bearer ${SIGNING_KEY}` })).status).toBe(201);
    expect((await tokenRequest(herald.url, { Authorization: `BEARER ${SIGNING_KEY_HASHED}` })).status).toBe(
      201,
    );
  });

  const refused: [string, Record<string, string>, RegExp][] = [
    ['no Authorization header', {}, /Authentication failed: missing signing key/],
    ['an empty bearer', { Authorization: 'Bearer ' }, /Authentication failed/],
    ['a wrong key', bearer('signkey-test-deadbeef'), /Authentication failed: wrong signing key/],
    ['a wrong hashed key', bearer(sdkHash('signkey-test-deadbeef')), /Authentication failed/],
    ['the hash of the hash', bearer(sdkHash(SIGNING_KEY_HASHED)), /Authentication failed/],
    ['a non-hex key', bearer('signkey-test-not-hex!'), /Authentication failed/],
    ['another scheme', { Authorization: `Basic ${SIGNING_KEY}` }, /Authentication failed/],
  ];
  for (const [what, headers, pattern] of refused) {
    it(`refuses ${what} with 401 JSON on /token, /publish and /publish/tee`, async () => {
      // §7.4, §7.63
      await expect401(tokenRequest(herald.url, headers), pattern);
      await expect401(publish(herald.url, 'c', 't', '1', { headers }), pattern);
      await expect401(
        fetch(publishUrl(herald.url, { channel: 'c' }, 'publish/tee'), {
          method: 'POST',
          headers,
          body: 'x',
        }),
        pattern,
      );
    });
  }

  it('lets everything through on /token and /publish when no key is configured (herald dev)', async () => {
    // §7.63 (no key configured → pass-through)
    expect((await tokenRequest(dev.url, {})).status).toBe(201);
    expect((await tokenRequest(dev.url, bearer('whatever'))).status).toBe(201);
    expect((await publish(dev.url, 'c', 't', '1', { headers: bearer('whatever') })).status).toBe(200);
  });

  it('accepts a Go SDK publish: raw key, no Content-Type, body "step 1 data", answered 200', async () => {
    // §7.61
    const runId = '01K3ABCDEFGHJKMNPQRSTVWXYZ';
    const c = await subscriber(runId, ['step-1']);
    const res = await request(publishUrl(herald.url, { channel: runId, topic: 'step-1' }), {
      method: 'POST',
      headers: bearer(SIGNING_KEY),
      body: 'step 1 data',
    });
    expect(res.status).toBe(200);
    await publish(herald.url, runId, 'step-1', '"marker"', { headers: bearer(SIGNING_KEY) });
    await frameWhere(c, (f) => f.data === 'marker');
    expect(c.frames[0]).toMatchObject({ kind: 'data', data: 'step 1 data', channel: runId, topic: 'step-1' });
    expect(c.frames).toHaveLength(2);
  });

  it('connects with the token in an Authorization: Bearer header (Go SDK)', async () => {
    const channel = uniqueChannel();
    const token = await mintToken(herald.url, channel, ['t'], bearer(SIGNING_KEY));
    const c = await FrameCollector.connect(herald.wsUrl, '', { headers: bearer(token) });
    open.push(c);
    await publish(herald.url, channel, 't', '"via header"', { headers: bearer(SIGNING_KEY) });
    await frameWhere(c, (f) => f.data === 'via header');
  });
});

describe('subscription token attacks', () => {
  const channel = 'secret-channel';
  const good = () => claims({ topics: topicsOf(channel, ['t']) });

  it('accepts a well-formed token signed with the JWT secret (control)', async () => {
    const c = await FrameCollector.connect(herald.wsUrl, signJwt(good()));
    c.close();
  });

  const attacks: [string, () => string, RegExp][] = [
    [
      'a forged signature (another secret)',
      () => signJwt(good(), { secret: 'guessed-secret' }),
      /invalid token/,
    ],
    [
      'a tampered payload under a real signature',
      () => {
        const [h, , s] = signJwt(good()).split('.');
        const payload = Buffer.from(JSON.stringify(claims({ topics: topicsOf('other', ['t']) }))).toString(
          'base64url',
        );
        return `${h}.${payload}.${s}`;
      },
      /invalid token/,
    ],
    ['alg: none', () => signJwt(good(), { header: { alg: 'none', typ: 'JWT' } }), /invalid token/],
    [
      'alg: HS512 with the right secret',
      () => signJwt(good(), { header: { alg: 'HS512', typ: 'JWT' } }),
      /invalid token/,
    ],
    [
      'an expired token',
      () =>
        signJwt({
          ...good(),
          exp: Math.floor(Date.now() / 1000) - 1,
          iat: Math.floor(Date.now() / 1000) - 61,
        }),
      /token expired/,
    ],
    ['a wrong issuer', () => signJwt({ ...good(), iss: 'evil.example.com' }), /invalid token/],
    ['no issuer', () => signJwt({ ...good(), iss: undefined }), /invalid token/],
    ['no expiry', () => signJwt({ ...good(), exp: undefined }), /invalid token/],
    [
      'an issue time in the future',
      () => signJwt({ ...good(), iat: Math.floor(Date.now() / 1000) + 3600 }),
      /future/,
    ],
    ['topics that are not a list', () => signJwt({ ...good(), topics: 'all' }), /invalid token claims/],
    ['no env', () => signJwt({ ...good(), env: undefined }), /invalid token claims/],
    [
      'a minted token from a dev server (dev secret)',
      () => signJwt(good(), { secret: 'dev-mode-is-not-secret' }),
      /invalid token/,
    ],
  ];
  for (const [what, make, pattern] of attacks) {
    it(`refuses ${what} with 401 JSON on WebSocket and SSE`, async () => {
      const token = make();
      const ws = await refusedDial(token);
      expect(ws.status).toBe(401);
      expect(ws.body).toMatchObject({ status: 401, error: expect.stringMatching(pattern) });
      const sse = await SseClient.open(herald.url, token);
      await sse.waitForEnd();
      expect(sse.status).toBe(401);
      expect(sse.headers['content-type']).toBe('application/json');
      expect(JSON.parse(sse.text).error).toMatch(pattern);
    });
  }

  it('gives a token for topic A nothing of topic B, nor of topic A in another channel', async () => {
    const ch = uniqueChannel();
    const c = await subscriber(ch, ['a']);
    for (const [channel2, topic] of [
      [ch, 'b'],
      [`${ch}-other`, 'a'],
    ] as const)
      await publish(herald.url, channel2, topic, '"not yours"', { headers: bearer(SIGNING_KEY) });
    await publish(herald.url, ch, 'a', '"yours"', { headers: bearer(SIGNING_KEY) });
    await frameWhere(c, (f) => f.data === 'yours');
    expect(c.frames.map((f) => f.data)).toEqual(['yours']);
    // Nor can it add topic B with a sub frame carrying a token it forged.
    const forged = signJwt(claims({ topics: topicsOf(ch, ['b']) }), { secret: 'guessed' });
    c.ws.send(JSON.stringify({ kind: 'sub', data: forged, id: 1 }));
    const reply = await frameWhere(c, (f) => f.kind === 'sub');
    expect(reply.data).toMatchObject({ ok: false });
  });

  it('refuses a subscription JWT on /token (it never mints another, F12)', async () => {
    const sub = await mintToken(herald.url, 'c', ['t'], bearer(SIGNING_KEY));
    await expect401(tokenRequest(herald.url, bearer(sub)), /a realtime token cannot mint tokens/);
    await expect401(
      fetch(`${herald.url}/v1/realtime/token?token=${sub}`, { method: 'POST', body: '[]' }),
      /cannot mint tokens|Authentication failed/,
    );
    // Not even in dev mode, where /token is otherwise open.
    const devSub = await mintToken(dev.url, 'c', ['t']);
    await expect401(tokenRequest(dev.url, bearer(devSub)), /cannot mint tokens/);
  });

  it('refuses a publish JWT on /token too', async () => {
    await expect401(
      tokenRequest(herald.url, bearer(signJwt(claims({ publish: true, topics: null })))),
      /cannot mint/,
    );
  });

  it('refuses a subscription JWT on /publish and /publish/tee: 401 "Not authenticated for publishing"', async () => {
    const ch = uniqueChannel();
    const sub = await mintToken(herald.url, ch, ['t'], bearer(SIGNING_KEY));
    await expect401(
      publish(herald.url, ch, 't', '1', { headers: bearer(sub) }),
      /Not authenticated for publishing/,
    );
    await expect401(
      publish(herald.url, ch, 't', '1', { query: { token: sub } }),
      /Not authenticated for publishing/,
    );
    await expect401(
      fetch(publishUrl(herald.url, { channel: ch }, 'publish/tee'), {
        method: 'POST',
        headers: bearer(sub),
        body: 'x',
      }),
      /Not authenticated for publishing/,
    );
  });

  it('accepts a publish JWT on /publish, publishing in its env to any channel', async () => {
    const ch = uniqueChannel();
    const c = await subscriber(ch, ['t']);
    const pub = signJwt(claims({ publish: true, topics: null }));
    expect((await publish(herald.url, ch, 't', '"by publish token"', { headers: bearer(pub) })).status).toBe(
      200,
    );
    await frameWhere(c, (f) => f.data === 'by publish token');
  });

  it('refuses forged, expired or none-alg publish JWTs on /publish', async () => {
    const base = claims({ publish: true, topics: null });
    for (const token of [
      signJwt(base, { secret: 'guessed' }),
      signJwt(base, { header: { alg: 'none' } }),
      signJwt({ ...base, exp: Math.floor(Date.now() / 1000) - 5 }),
    ])
      await expect401(publish(herald.url, 'c', 't', '1', { headers: bearer(token) }), /Not authenticated/);
  });

  it('mints tokens whose env is the signing-key env, verifiable only with the configured secret', async () => {
    const jwt = await mintToken(herald.url, 'c', ['t'], bearer(SIGNING_KEY_HASHED));
    expect(decodeJwt(jwt).payload.env).toBe(DEFAULT_ENV);
    const [h, p, s] = jwt.split('.');
    expect(signJwt(decodeJwt(jwt).payload, { header: decodeJwt(jwt).header }).split('.')).toEqual([h, p, s]);
  });

  it('refuses a WebSocket and SSE without a token, and a signing key in place of one', async () => {
    // §7.19, §7.13 under a configured key
    const none = await request(`${herald.url}/v1/realtime/sse`);
    expect(none.status).toBe(401);
    expect(none.json()).toMatchObject({ status: 401, error: expect.stringMatching(/Not authenticated/) });
    const key = await refusedDial(SIGNING_KEY);
    expect(key.status).toBe(401);
  });
});
