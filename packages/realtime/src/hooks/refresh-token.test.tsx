/**
 * `refreshToken` is called when the hook needs a token — none given, one that expired (Herald here
 * mints tokens that live 2 s), or one Herald refused — once per need, not in a loop (W9, W22).
 */
import { render } from '@testing-library/react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HeraldProcess, startHerald } from '../../../../test/support/herald.js';
import { TcpProxy } from '../../../../test/support/tcp-proxy.js';
import { Probe, recorder } from '../../test/hook-probe.js';
import { connections, connectionsReach, publishJson, startUpgradeProxy } from '../../test/hooks.js';
import { mintToken, uniqueChannel, withHerald } from '../../test/support.js';
import { InngestSubscriptionState as State } from './state.js';
import { expired } from './token.js';

const herald = withHerald({ args: ['--token-ttl', '2'] });

function refresher(channel: string) {
  const calls: number[] = [];
  const refreshToken = async () => {
    calls.push(Date.now());
    return { channel, topics: ['t'], key: await mintToken(herald.current.url, channel, ['t']) };
  };
  return { calls, refreshToken };
}

/** Resolves once the token's `exp` has passed (the limit only guards against a hang). */
async function expiry(token: { channel: string; topics: string[]; key: string }) {
  for (let i = 0; i < 200 && !expired(token); i++) await new Promise((r) => setTimeout(r, 50));
  expect(expired(token)).toBe(true);
}

describe('refreshToken', () => {
  it('is called once when the token has expired, and the hook then receives messages', async () => {
    const channel = uniqueChannel();
    const old = { channel, topics: ['t'], key: await mintToken(herald.current.url, channel, ['t']) };
    await expiry(old);
    const { calls, refreshToken } = refresher(channel);
    const rec = recorder();
    const view = render(
      <Probe rec={rec} opts={{ token: old, refreshToken, apiBaseUrl: herald.current.url }} />,
    );
    await rec.until((r) => r.state === State.Active, 'active');
    expect(rec.renders.some((r) => r.state === State.RefreshingToken)).toBe(true);
    await publishJson(herald.current.url, channel, 't', 'after refresh');
    await rec.until((r) => r.data.length === 1, 'the message');
    expect(calls).toHaveLength(1);
    view.unmount();
    await connectionsReach(herald.current.url, 0);
  });

  it('is called once when no token is given', async () => {
    const channel = uniqueChannel();
    const { calls, refreshToken } = refresher(channel);
    const rec = recorder();
    const view = render(
      <Probe rec={rec} opts={{ token: null, refreshToken, apiBaseUrl: herald.current.url }} />,
    );
    await rec.until((r) => r.state === State.Active, 'active');
    expect(calls).toHaveLength(1);
    view.unmount();
    // The server sees the close a moment later; the next test counts connections.
    await connectionsReach(herald.current.url, 0);
  });

  it('is called once when Herald refuses the token', async () => {
    const channel = uniqueChannel();
    const { calls, refreshToken } = refresher(channel);
    const rec = recorder();
    const refused = { channel, topics: ['t'], key: 'not-a-token' };
    const view = render(
      <Probe rec={rec} opts={{ token: refused, refreshToken, apiBaseUrl: herald.current.url }} />,
    );
    await rec.until((r) => r.state === State.Active, 'active');
    expect(calls).toHaveLength(1);
    view.unmount();
    // The server sees the close a moment later; the next test counts connections.
    await connectionsReach(herald.current.url, 0);
  });

  it('without refreshToken and without a token, the hook reports an error and does not connect', async () => {
    const rec = recorder();
    const view = render(<Probe rec={rec} opts={{ token: undefined, apiBaseUrl: herald.current.url }} />);
    await rec.until((r) => r.state === State.Error, 'error');
    expect(rec.last().error?.message).toMatch(/no token/);
    expect(await connections(herald.current.url)).toBe(0);
    view.unmount();
  });

  it('is not called again while the fresh token it gave keeps failing: the retries back off instead', async () => {
    const proxy = await startUpgradeProxy(herald.current.url);
    try {
      const channel = uniqueChannel();
      let calls = 0;
      // A token Herald refuses, every time.
      const refreshToken = async () => {
        calls++;
        return { channel, topics: ['t'], key: 'refused-again' };
      };
      const rec = recorder();
      const view = render(
        <Probe
          rec={rec}
          opts={{
            token: null,
            refreshToken,
            apiBaseUrl: proxy.url,
            reconnect: { minDelayMs: 20, maxDelayMs: 100 },
          }}
        />,
      );
      await proxy.upgraded(4);
      expect(calls).toBe(1);
      await rec.until((r) => r.state === State.Error && r.error !== null, 'the error shown');
      view.unmount();
    } finally {
      await proxy.close();
    }
  });
});

describe('refreshToken once connected', () => {
  it('is called when the connection drops after the token expired, and the hook resumes', async () => {
    const proxy = await TcpProxy.start([herald.current.port]);
    try {
      const channel = uniqueChannel();
      const token = { channel, topics: ['t'], key: await mintToken(herald.current.url, channel, ['t']) };
      const { calls, refreshToken } = refresher(channel);
      const rec = recorder();
      const view = render(
        <Probe
          rec={rec}
          opts={{
            token,
            refreshToken,
            apiBaseUrl: proxy.url,
            reconnect: { minDelayMs: 20, maxDelayMs: 200 },
          }}
        />,
      );
      await rec.until((r) => r.state === State.Active, 'active');
      await expiry(token);
      expect(calls).toHaveLength(0);
      proxy.dropAll();
      await publishJson(herald.current.url, channel, 't', 'while away');
      await rec.until((r) => r.state === State.Active && r.data.length === 1, 'resumed with the message');
      expect(calls).toHaveLength(1);
      view.unmount();
      await connectionsReach(herald.current.url, 0);
    } finally {
      await proxy.close();
    }
  });

  describe('with Herald closing connections whose token expired (--enforce-token-expiry)', () => {
    let strict: HeraldProcess;
    beforeAll(async () => {
      // Expiry is checked on each ping: every 0.5 s here.
      strict = await startHerald({
        args: ['--token-ttl', '3', '--enforce-token-expiry', '--ping-interval', '0.5'],
      });
    });
    afterAll(async () => {
      await strict?.stop();
    });

    it('renews the token on the open connection: no reconnect, nothing missed', async () => {
      const channel = uniqueChannel();
      const token = { channel, topics: ['t'], key: await mintToken(strict.url, channel, ['t']) };
      const calls: number[] = [];
      const refreshToken = async () => {
        calls.push(Date.now());
        return { channel, topics: ['t'], key: await mintToken(strict.url, channel, ['t']) };
      };
      const rec = recorder();
      const view = render(<Probe rec={rec} opts={{ token, refreshToken, apiBaseUrl: strict.url }} />);
      await rec.until((r) => r.state === State.Active, 'active');
      const activeAt = rec.renders.length;
      await expiry(token);
      // Herald warns before a token expires; the hook answers with a fresh one on the same socket.
      for (let i = 0; i < 200 && calls.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
      expect(calls.length).toBeGreaterThan(0);
      await publishJson(strict.url, channel, 't', 'after expiry');
      await rec.until((r) => r.data.length === 1, 'the message');
      expect(rec.renders.slice(activeAt).every((r) => r.state === State.Active)).toBe(true);
      expect(await connections(strict.url)).toBe(1);
      view.unmount();
      await connectionsReach(strict.url, 0);
    });
  });
});
