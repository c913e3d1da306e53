/**
 * `POST /v1/realtime/token`: what a minted subscription JWT holds (§2.2), its lifetime
 * (`--token-ttl`), which secret signs it, and bad request bodies (400 naming the field).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameCollector, mintToken } from '../support/client.js';
import { type HeraldProcess, startHerald } from '../support/herald.js';
import {
  bearer,
  DEFAULT_ACCOUNT,
  DEFAULT_ENV,
  decodeJwt,
  request,
  SIGNING_KEY,
  stopClean,
} from './helpers.js';

let dev: HeraldProcess;
let longTtl: HeraldProcess;
let otherSecret: HeraldProcess;

beforeAll(async () => {
  [dev, longTtl, otherSecret] = await Promise.all([
    startHerald(),
    startHerald({ mode: 'start', args: ['--signing-key', SIGNING_KEY, '--token-ttl', '16m'] }),
    startHerald({ mode: 'start', args: ['--signing-key', SIGNING_KEY, '--jwt-secret', 'another-secret'] }),
  ]);
});
afterAll(async () => {
  await stopClean(dev, longTtl, otherSecret);
});

function postToken(base: string, body: string, headers: Record<string, string> = {}) {
  return request(`${base}/v1/realtime/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body,
  });
}

describe('minted tokens', () => {
  it('answers 201 {jwt} holding iss, sub, env, topics (env_id set) and publish: false', async () => {
    // §7.40
    const res = await postToken(
      dev.url,
      JSON.stringify([{ channel: 'run-123', name: '$stream', kind: 'run', env_id: 'ignored', extra: 1 }]),
    );
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toBe('application/json');
    const { jwt } = res.json<{ jwt: string }>();
    const { header, payload } = decodeJwt(jwt);
    expect(header).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(payload).toEqual({
      iss: 'rt.inngest.com',
      sub: DEFAULT_ACCOUNT,
      exp: expect.any(Number),
      iat: expect.any(Number),
      jti: expect.any(String),
      env: DEFAULT_ENV,
      // env_id is always the authenticated env; unknown fields are dropped.
      topics: [{ kind: 'run', env_id: DEFAULT_ENV, channel: 'run-123', name: '$stream' }],
      publish: false,
    });
  });

  it('expires 60 s after issue by default', async () => {
    const { payload } = decodeJwt(await mintToken(dev.url, 'c', ['t']));
    expect((payload.exp as number) - (payload.iat as number)).toBe(60);
  });

  it('expires --token-ttl after issue (16 min, as Durable Endpoint tokens)', async () => {
    // §7.41
    const jwt = await mintToken(longTtl.url, 'run-123', ['$stream'], bearer(SIGNING_KEY));
    const { payload } = decodeJwt(jwt);
    expect((payload.exp as number) - (payload.iat as number)).toBe(16 * 60);
  });

  it('is refused by a server with another JWT secret', async () => {
    // §7.42
    const jwt = await mintToken(longTtl.url, 'c', ['t'], bearer(SIGNING_KEY));
    await expect(FrameCollector.connect(otherSecret.wsUrl, jwt)).rejects.toThrow(/unexpected response 401/);
    const mine = await FrameCollector.connect(longTtl.wsUrl, jwt);
    mine.close();
  });

  it('keeps the topic kind and run_id, defaults kind to "run", and accepts an empty list', async () => {
    const res = await postToken(
      dev.url,
      JSON.stringify([
        { channel: 'c', name: 'a', kind: 'event', run_id: '01K3ABCDEFGHJKMNPQRSTVWXYZ' },
        { channel: 'c', name: 'b' },
      ]),
    );
    expect(res.status).toBe(201);
    expect(decodeJwt(res.json<{ jwt: string }>().jwt).payload.topics).toEqual([
      { kind: 'event', env_id: DEFAULT_ENV, channel: 'c', name: 'a', run_id: '01K3ABCDEFGHJKMNPQRSTVWXYZ' },
      { kind: 'run', env_id: DEFAULT_ENV, channel: 'c', name: 'b' },
    ]);
    const empty = await postToken(dev.url, '[]');
    expect(empty.status).toBe(201);
    expect(decodeJwt(empty.json<{ jwt: string }>().jwt).payload.topics).toEqual([]);
  });

  it('mints without any auth in dev mode and without a Content-Type', async () => {
    const res = await request(`${dev.url}/v1/realtime/token`, {
      method: 'POST',
      body: '[{"channel":"c","name":"t"}]',
    });
    expect(res.status).toBe(201);
  });
});

describe('bad token requests', () => {
  const cases: [string, string, string][] = [
    ['an object', '{"channel":"c","name":"t"}', 'body'],
    ['a string', '"c"', 'body'],
    ['null', 'null', 'body'],
    ['not JSON', '[{', 'body'],
    ['empty', '', 'body'],
    ['a topic that is not an object', '[1]', '[0]'],
    ['a missing channel', '[{"name":"t"}]', '[0].channel'],
    ['an empty channel', '[{"channel":"","name":"t"}]', '[0].channel'],
    ['a missing name', '[{"channel":"c"}]', '[0].name'],
    [
      'a second topic with an empty name',
      '[{"channel":"c","name":"t"},{"channel":"c","name":""}]',
      '[1].name',
    ],
    ['a name over the limit', `[{"channel":"c","name":"${'n'.repeat(257)}"}]`, '[0].name'],
    ['a channel over the limit', `[{"channel":"${'c'.repeat(257)}","name":"t"}]`, '[0].channel'],
    ['a kind that is not a string', '[{"channel":"c","name":"t","kind":5}]', '[0].kind'],
    ['a run_id over the limit', `[{"channel":"c","name":"t","run_id":"${'r'.repeat(257)}"}]`, '[0].run_id'],
    [
      'more than 100 topics',
      JSON.stringify(Array.from({ length: 101 }, (_, i) => ({ channel: 'c', name: `t${i}` }))),
      'body',
    ],
  ];
  for (const [what, body, field] of cases) {
    it(`refuses ${what} with 400 naming ${field}`, async () => {
      const res = await postToken(dev.url, body);
      expect(res.status, res.text).toBe(400);
      expect(res.headers['content-type']).toBe('application/json');
      expect(res.json()).toMatchObject({ status: 400, field, error: expect.any(String) });
    });
  }

  it('refuses a body over the limit with 413', async () => {
    const body = JSON.stringify(
      Array.from({ length: 5000 }, (_, i) => ({ channel: 'c', name: `topic-${i}` })),
    );
    const res = await postToken(dev.url, body);
    expect(res.status).toBe(413);
    expect(res.json()).toMatchObject({ status: 413 });
  });
});
