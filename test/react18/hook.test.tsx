/**
 * The hook with React 18 (vitest.config.ts points every `react` import of this project, the hook's
 * included, at the React 18 installed in this folder): one connection under StrictMode, every
 * message of a burst shown, nothing open after unmount, and server rendering.
 */
import { act, StrictMode, version } from 'react';
import { createRoot } from 'react-dom/client';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { InngestSubscriptionState as State } from '../../packages/realtime/src/hooks/index.js';
import { Probe, recorder } from '../../packages/realtime/test/hook-probe.js';
import {
  connections,
  connectionsReach,
  publishBurst,
  publishJson,
} from '../../packages/realtime/test/hooks.js';
import { mintToken, uniqueChannel, withHerald } from '../../packages/realtime/test/support.js';

const herald = withHerald();

describe('React 18', () => {
  it('is the React in use', () => {
    expect(version).toMatch(/^18\./);
  });

  it('under StrictMode: one connection, every message of a burst once, none left after unmount', async () => {
    const channel = uniqueChannel();
    const token = { channel, topics: ['t'], key: await mintToken(herald.current.url, channel, ['t']) };
    const rec = recorder();
    const container = document.createElement('div');
    document.body.append(container);
    const root = createRoot(container);
    root.render(
      <StrictMode>
        <Probe rec={rec} opts={{ token, apiBaseUrl: herald.current.url }} />
      </StrictMode>,
    );
    await rec.until((r) => r.state === State.Active, 'active');
    await connectionsReach(herald.current.url, 1);
    await publishJson(herald.current.url, channel, 't', { i: -1 });
    await rec.until((r) => r.data.length === 1, 'the first message');
    await publishBurst(herald.current.url, channel, 't', 300);
    await rec.until((r) => r.data.length === 301, 'the burst');
    const ids = rec.committedFresh.flat().map((m) => (m as { data: { i: number } }).data.i);
    expect(ids.length).toBe(301);
    expect(new Set(ids).size).toBe(301);
    expect(await connections(herald.current.url)).toBe(1);
    await act(async () => root.unmount());
    await connectionsReach(herald.current.url, 0);
  });

  it('renders on a server', () => {
    const html = renderToString(<Probe rec={recorder()} opts={{ token: { channel: 'c', topics: ['t'] } }} />);
    expect(html).toContain('data-state="closed"');
  });
});
