/**
 * When the network drops the connection, the hook says so, reconnects with the SDK's backoff and
 * resumes where it stopped: messages published while it was away arrive, in order, once (0.4.7 lost
 * them, W6, and reconnected in a tight loop, W9). The drop is real: Herald sits behind a TCP proxy
 * that cuts every connection and refuses new ones until the test lets them through again.
 */
import { render } from '@testing-library/react';
import { afterEach, expect, it } from 'vitest';
import { TcpProxy } from '../../../../test/support/tcp-proxy.js';
import { Probe, recorder } from '../../test/hook-probe.js';
import { connectionsReach, publishSequence } from '../../test/hooks.js';
import { mintToken, uniqueChannel, withHerald } from '../../test/support.js';
import { InngestSubscriptionState as State } from './state.js';

const herald = withHerald();
let proxy: TcpProxy | undefined;
afterEach(async () => {
  await proxy?.close();
});

const ids = (messages: unknown[]) => messages.map((m) => (m as { data: { i: number } }).data.i);
const range = (n: number) => Array.from({ length: n }, (_, k) => k);

it('the hook recovers messages published while the server dropped the connection', async () => {
  proxy = await TcpProxy.start([herald.current.port]);
  const channel = uniqueChannel();
  const token = { channel, topics: ['t'], key: await mintToken(herald.current.url, channel, ['t']) };
  const rec = recorder();
  const view = render(
    <Probe
      rec={rec}
      opts={{ token, apiBaseUrl: proxy.url, reconnect: { minDelayMs: 20, maxDelayMs: 200 } }}
    />,
  );
  await rec.until((r) => r.state === State.Active, 'active');
  await publishSequence(herald.current.url, channel, 't', 5);
  await rec.until((r) => r.data.length === 5, 'the first 5 messages');

  // Cut the connection, and keep Herald unreachable while 5 more messages are published.
  proxy.setBackends([]);
  expect(proxy.dropAll()).toBe(1);
  const away = await rec.until((r) => r.state === State.Connecting && r.closeReason !== null, 'reconnecting');
  expect(away.closeReason?.willReconnect).toBe(true);
  await connectionsReach(herald.current.url, 0);
  await publishSequence(herald.current.url, channel, 't', 5, 5);

  proxy.setBackends([herald.current.port]);
  await rec.until((r) => r.state === State.Active && r.data.length === 10, 'active with all 10 messages');
  expect(ids(rec.last().data)).toEqual(range(10));
  expect(rec.last().error).toBeNull();
  expect(rec.last().closeReason).toBeNull();
  await connectionsReach(herald.current.url, 1);

  await publishSequence(herald.current.url, channel, 't', 2, 10);
  await rec.until((r) => r.data.length === 12, 'live messages after the resume');
  expect(ids(rec.last().data)).toEqual(range(12));
  // Each message reached the screen once.
  expect(rec.committedFresh.flatMap(ids)).toEqual(range(12));
  view.unmount();
  await connectionsReach(herald.current.url, 0);
});
