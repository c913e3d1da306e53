/**
 * The `herald` CLI: help lists every option (flag, environment variables, default), `herald start`
 * refuses to run without a signing key and says what to pass, `herald dev` says loudly that auth is
 * off, bad values are refused naming the option, and every flag and variable takes effect.
 */
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { OPTIONS } from '../../packages/server/src/config.js';
import { FrameCollector, mintToken, publish } from '../support/client.js';
import { type HeraldProcess, runCli, startHerald } from '../support/herald.js';
import { bearer, decodeJwt, publishUrl, request, SIGNING_KEY, stopClean } from './helpers.js';

const running: HeraldProcess[] = [];
afterAll(async () => {
  await stopClean(...running);
});
async function herald(...args: Parameters<typeof startHerald>) {
  const h = await startHerald(...args);
  running.push(h);
  return h;
}

const flagOf = (flag: string) => flag.split(' ')[0] as string;

// CLI runs are independent processes: run them side by side (each test uses its own `expect`).
describe.concurrent('help', () => {
  it('herald --help lists both commands and every option with its environment variables', async ({
    expect,
  }) => {
    const { code, stdout } = await runCli(['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^\s+dev \[options\]/m);
    expect(stdout).toMatch(/^\s+start \[options\]/m);
    for (const o of OPTIONS) {
      expect(stdout).toContain(flagOf(o.flag));
      for (const env of o.env) expect(stdout).toContain(env);
    }
  });

  for (const mode of ['start', 'dev'] as const) {
    it(`herald ${mode} --help lists every option with its environment variables and default`, async ({
      expect,
    }) => {
      const { code, stdout } = await runCli([mode, '--help']);
      expect(code).toBe(0);
      const flat = stdout.replace(/\s+/g, ' ');
      for (const o of OPTIONS) {
        expect(flat).toContain(o.flag);
        for (const env of o.env) expect(flat).toContain(env);
        const d = o.defaults[mode];
        if (d !== undefined) expect(flat).toContain(`(default: ${d})`);
      }
    });
  }

  it('documents the options the issue asks for', async ({ expect }) => {
    const { stdout } = await runCli(['start', '--help']);
    for (const flag of [
      '--port',
      '--host',
      '--signing-key',
      '--signing-key-fallback',
      '--jwt-secret',
      '--token-ttl',
      '--history-size',
      '--history-ttl',
      '--max-body',
      '--max-stream',
      '--max-name-length',
      '--max-frame',
      '--send-queue',
      '--shutdown-grace',
    ])
      expect(stdout).toContain(flag);
    for (const env of [
      'HERALD_PORT',
      'HERALD_HOST',
      'INNGEST_SIGNING_KEY',
      'INNGEST_SIGNING_KEY_FALLBACK',
      'HERALD_JWT_SECRET',
    ])
      expect(stdout).toContain(env);
  });
});

describe('herald start', () => {
  it('refuses to start without a signing key, saying what to pass', async () => {
    const { code, stdout, stderr } = await runCli(['start', '--port', '0'], {
      INNGEST_SIGNING_KEY: undefined,
    });
    expect(code).not.toBe(0);
    expect(stderr).toContain('--signing-key');
    expect(stderr).toContain('INNGEST_SIGNING_KEY');
    expect(stderr).toContain('herald dev');
    expect(stdout).not.toContain('listening');
  });

  it('refuses a signing key that is not hex, naming the option', async () => {
    const bad = await runCli(['start', '--port', '0', '--signing-key', 'signkey-test-nothex']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--signing-key must be an even-length hex string/);
    const badFallback = await runCli([
      'start',
      '--port',
      '0',
      '--signing-key',
      SIGNING_KEY,
      '--signing-key-fallback',
      'xyz',
    ]);
    expect(badFallback.code).not.toBe(0);
    expect(badFallback.stderr).toMatch(/--signing-key-fallback must be an even-length hex string/);
  });

  it('takes the key from INNGEST_SIGNING_KEY (or HERALD_SIGNING_KEY) and enforces it', async () => {
    for (const env of ['INNGEST_SIGNING_KEY', 'HERALD_SIGNING_KEY']) {
      const h = await herald({ mode: 'start', env: { [env]: SIGNING_KEY } });
      expect(h.output()).not.toContain('AUTH IS OFF');
      expect((await publish(h.url, 'c', 't', '1')).status).toBe(401);
      expect((await publish(h.url, 'c', 't', '1', { headers: bearer(SIGNING_KEY) })).status).toBe(200);
    }
  });
});

describe('herald dev', () => {
  it('prints a banner with the URLs and a loud line saying auth is off', async () => {
    const h = await herald();
    const out = h.output();
    expect(out).toContain('Herald dev server');
    expect(out).toContain(`${h.wsUrl}/v1/realtime/connect`);
    expect(out).toContain(`${h.url}/v1/realtime/publish`);
    expect(out).toContain(`${h.url}/v1/realtime/token`);
    expect(out).toContain(`${h.url}/health`);
    expect(out).toMatch(/AUTH IS OFF/);
  });

  it('turns auth on when given a signing key', async () => {
    const h = await herald({ args: ['--signing-key', SIGNING_KEY] });
    expect(h.output()).not.toContain('AUTH IS OFF');
    const res = await fetch(`${h.url}/v1/realtime/token`, { method: 'POST', body: '[]' });
    expect(res.status).toBe(401);
  });
});

describe.concurrent('refused option values', () => {
  const refusals: [string, string[], Record<string, string>, RegExp][] = [
    ['a port that is not a number', ['--port', 'abc'], {}, /--port: "abc" must be an integer/],
    ['a port out of range', ['--port', '70000'], {}, /--port/],
    ['a size that is not a size', ['--max-body', 'lots'], {}, /--max-body: "lots" is not a size/],
    [
      'a duration that is not a duration',
      ['--token-ttl', 'soon'],
      {},
      /--token-ttl: "soon" is not a duration/,
    ],
    ['an unknown log level', ['--log-level', 'loud'], {}, /--log-level: "loud" is not a log level/],
    [
      'a bad value in the environment',
      [],
      { HERALD_PORT: 'eighty' },
      /HERALD_PORT: "eighty" must be an integer/,
    ],
    ['an unknown option', ['--bogus'], {}, /unknown option '--bogus'/],
  ];
  for (const [what, args, env, pattern] of refusals) {
    it(`refuses ${what}, naming it`, async ({ expect }) => {
      const { code, stderr } = await runCli(['dev', ...args], env);
      expect(code).not.toBe(0);
      expect(stderr).toMatch(pattern);
    });
  }

  it('says so when the port is in use', async ({ expect }) => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const { code, stderr } = await runCli(['dev', '--host', '127.0.0.1', '--port', String(port)]);
      expect(code).toBe(1);
      expect(stderr).toMatch(new RegExp(`port ${port} on 127.0.0.1 is in use.*--port`));
    } finally {
      blocker.close();
    }
  });
});

describe('option values', () => {
  /** Checks the limits set to: body 1 KiB, frame 1 KiB, names 8, 2 topics per token, token TTL 90 s. */
  async function expectLimits(h: HeraldProcess) {
    expect((await publish(h.url, 'c', 't', JSON.stringify('x'.repeat(1100)))).status).toBe(413);
    expect((await publish(h.url, 'c', 't', JSON.stringify('x'.repeat(900)))).status).toBe(200);
    expect((await publish(h.url, 'c'.repeat(9), 't', '1')).status).toBe(400);
    expect((await publish(h.url, 'c'.repeat(8), 't', '1')).status).toBe(200);
    const three = await fetch(`${h.url}/v1/realtime/token`, {
      method: 'POST',
      body: JSON.stringify(['a', 'b', 'c'].map((name) => ({ channel: 'c', name }))),
    });
    expect(three.status).toBe(400);
    const token = await mintToken(h.url, 'c', ['a', 'b']);
    const { payload } = decodeJwt(token);
    expect((payload.exp as number) - (payload.iat as number)).toBe(90);
    const ws = await FrameCollector.connect(h.wsUrl, token);
    ws.ws.send('x'.repeat(2048));
    expect(await ws.closed()).toBe(1009);
    const stream = await request(publishUrl(h.url, { channel: 'c', topic: 't' }), {
      method: 'POST',
      headers: { 'Content-Type': 'text/stream' },
      body: 'y'.repeat(3000),
    });
    expect(stream.status).toBe(413);
    expect(stream.json()).toMatchObject({ bytes: 2048 });
  }

  it('applies every limit given as a flag', async () => {
    const h = await herald({
      args: [
        '--max-body',
        '1KiB',
        '--max-frame',
        '1KiB',
        '--max-name-length',
        '8',
        '--max-topics-per-token',
        '2',
        '--token-ttl',
        '90s',
        '--max-stream',
        '2KiB',
      ],
    });
    await expectLimits(h);
  });

  it('applies every limit given as an environment variable', async () => {
    const h = await herald({
      env: {
        HERALD_MAX_BODY: '1KiB',
        HERALD_MAX_FRAME: '1024',
        HERALD_MAX_NAME_LENGTH: '8',
        HERALD_MAX_TOPICS_PER_TOKEN: '2',
        HERALD_TOKEN_TTL: '1.5m',
        HERALD_MAX_STREAM: '2KiB',
      },
    });
    await expectLimits(h);
  });

  it('lets a flag win over its environment variable', async () => {
    const h = await herald({ args: ['--max-body', '4KiB'], env: { HERALD_MAX_BODY: '1KiB' } });
    expect((await publish(h.url, 'c', 't', JSON.stringify('x'.repeat(3000)))).status).toBe(200);
  });
});
