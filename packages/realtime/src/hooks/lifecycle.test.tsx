/**
 * The hook owns exactly one connection while mounted and enabled, and none otherwise (0.4.7 leaked
 * one on every unmount, token change and StrictMode mount, W4/W5). Counted by Herald itself.
 */
import { act, render } from '@testing-library/react';
import { StrictMode } from 'react';
import { describe, expect, it } from 'vitest';
import { Probe, recorder } from '../../test/hook-probe.js';
import { connections, connectionsReach, publishJson, startUpgradeProxy } from '../../test/hooks.js';
import { mintToken, uniqueChannel, withHerald } from '../../test/support.js';
import { InngestSubscriptionState as State } from './state.js';

const herald = withHerald();

async function tokenFor(channel: string, topics = ['t']) {
  return { channel, topics, key: await mintToken(herald.current.url, channel, topics) };
}

describe('the connection ends with the component', () => {
  it('closes on unmount', async () => {
    const rec = recorder();
    const token = await tokenFor(uniqueChannel());
    const view = render(<Probe rec={rec} opts={{ token, apiBaseUrl: herald.current.url }} />);
    await rec.until((r) => r.state === State.Active, 'active');
    await connectionsReach(herald.current.url, 1);
    view.unmount();
    await connectionsReach(herald.current.url, 0);
  });

  it('closes on enabled: false, and opens again on true', async () => {
    const rec = recorder();
    const token = await tokenFor(uniqueChannel());
    const props = { token, apiBaseUrl: herald.current.url };
    const view = render(<Probe rec={rec} opts={props} />);
    await rec.until((r) => r.state === State.Active, 'active');
    view.rerender(<Probe rec={rec} opts={{ ...props, enabled: false }} />);
    await connectionsReach(herald.current.url, 0);
    await rec.until((r) => r.state === State.Closed, 'closed');
    expect(rec.last().closeReason?.willReconnect).toBe(false);
    view.rerender(<Probe rec={rec} opts={{ ...props, enabled: true }} />);
    await rec.until((r) => r.state === State.Active, 'active again');
    await connectionsReach(herald.current.url, 1);
    view.unmount();
    await connectionsReach(herald.current.url, 0);
  });

  it('replaces the connection when the token changes, and only receives the new channel', async () => {
    const rec = recorder();
    const [a, b] = [uniqueChannel(), uniqueChannel()];
    const view = render(
      <Probe rec={rec} opts={{ token: await tokenFor(a), apiBaseUrl: herald.current.url }} />,
    );
    await rec.until((r) => r.state === State.Active, 'active on a');
    const toB = await tokenFor(b);
    view.rerender(<Probe rec={rec} opts={{ token: toB, apiBaseUrl: herald.current.url }} />);
    await rec.until((r) => r.state === State.Connecting, 'reconnecting for b');
    await rec.until((r) => r.state === State.Active, 'active on b');
    await connectionsReach(herald.current.url, 1);
    await publishJson(herald.current.url, a, 't', { from: 'a' });
    await publishJson(herald.current.url, b, 't', { from: 'b' });
    await rec.until((r) => r.data.length > 0, 'the message on b');
    expect(rec.last().data.map((m) => m.data)).toEqual([{ from: 'b' }]);
    view.unmount();
    await connectionsReach(herald.current.url, 0);
  });

  it('keeps its connection for an equal token given anew on each render, and replaces it when `key` changes', async () => {
    const rec = recorder();
    const token = await tokenFor(uniqueChannel());
    const url = herald.current.url;
    const view = render(<Probe rec={rec} opts={{ token: { ...token }, apiBaseUrl: url }} />);
    await rec.until((r) => r.state === State.Active, 'active');
    const before = rec.renders.length;
    // A fresh but equal object, as an inline literal gives on every render: no reconnect.
    view.rerender(<Probe rec={rec} opts={{ token: { ...token }, apiBaseUrl: url }} />);
    view.rerender(<Probe rec={rec} opts={{ token: { ...token }, apiBaseUrl: url }} />);
    await publishJson(url, token.channel, 't', 1);
    await rec.until((r) => r.data.length === 1, 'the message');
    expect(rec.renders.slice(before).every((r) => r.state === State.Active)).toBe(true);

    const beforeKey = rec.renders.length;
    view.rerender(<Probe rec={rec} opts={{ token: { ...token }, apiBaseUrl: url, key: 'x' }} />);
    await rec.until((r) => r.state === State.Active && rec.renders.length > beforeKey + 1, 'active again');
    expect(rec.renders.slice(beforeKey).some((r) => r.state === State.Connecting)).toBe(true);
    await connectionsReach(url, 1);
    // As in 0.4.7, `data` survives a resubscribe (reset() empties it).
    expect(rec.last().data.map((m) => m.data)).toEqual([1]);
    await publishJson(url, token.channel, 't', 2);
    await rec.until((r) => r.data.length === 2, 'the message after the new connection');
    view.unmount();
    await connectionsReach(url, 0);
  });

  it('closes a connection that was still opening when the component let go of it', async () => {
    const proxy = await startUpgradeProxy(herald.current.url, { hold: true });
    try {
      const rec = recorder();
      const token = await tokenFor(uniqueChannel());
      const view = render(<Probe rec={rec} opts={{ token, apiBaseUrl: proxy.url }} />);
      await proxy.upgraded(1);
      await rec.until((r) => r.state === State.Connecting, 'connecting');
      view.unmount();
      // Herald now completes the upgrade it was holding: the socket opens after the unmount.
      proxy.release();
      await connectionsReach(herald.current.url, 0);
      expect(proxy.upgrades).toBe(1);
    } finally {
      await proxy.close();
    }
  });
});

describe('StrictMode', () => {
  it('leaves exactly one connection, and delivers each message once', async () => {
    const rec = recorder();
    const token = await tokenFor(uniqueChannel());
    const view = render(
      <StrictMode>
        <Probe rec={rec} opts={{ token, apiBaseUrl: herald.current.url }} />
      </StrictMode>,
    );
    await rec.until((r) => r.state === State.Active, 'active');
    await connectionsReach(herald.current.url, 1);
    await publishJson(herald.current.url, token.channel, 't', 'once');
    await rec.until((r) => r.data.length === 1, 'the message');
    // A second live subscription would have delivered it twice by the time a second message lands.
    await publishJson(herald.current.url, token.channel, 't', 'twice?');
    await rec.until((r) => r.data.length >= 2, 'the second message');
    expect(rec.last().data.map((m) => m.data)).toEqual(['once', 'twice?']);
    expect(await connections(herald.current.url)).toBe(1);
    await act(async () => view.unmount());
    await connectionsReach(herald.current.url, 0);
  });
});
