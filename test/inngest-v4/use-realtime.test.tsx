/**
 * `inngest` v4's own `useRealtime` (from `inngest/react`, React 19 StrictMode, in the DOM test
 * environment) against Herald: a `run` frame — published over HTTP, or by Herald's v4 lifecycle
 * middleware with no publish in the function — makes `runStatus` `completed` (or `failed`) and
 * `result` the output, and the hook closes its connection, as Herald's connection count shows.
 * Lives here so `inngest` is v4. (The v3 middleware: use-realtime-v3.test.tsx.)
 */
import { runLifecycleMiddleware } from '@herald/realtime/lifecycle';
import { InngestTestEngine } from '@inngest/test';
import { act } from '@testing-library/react';
import { Inngest, Middleware, NonRetriableError } from 'inngest';
import { describe, expect, it } from 'vitest';
import { connectionsReach, publishJson } from '../../packages/realtime/test/hooks.js';
import { uniqueChannel, withHerald } from '../../packages/realtime/test/support.js';
import { publishUrl, request } from '../server/helpers.js';
import { mountUseRealtime, useGlobalWebSocket } from './use-realtime-support.js';

const herald = withHerald();
useGlobalWebSocket();
const mount = (channel: string) => mountUseRealtime(herald.current.url, channel);

/** An inngest v4 app whose base URL is Herald, with the lifecycle middleware publishing to `channel`. */
function appV4(channel: string) {
  return new Inngest({
    id: 'use-realtime-v4',
    baseUrl: herald.current.url,
    middleware: [runLifecycleMiddleware(Middleware.BaseMiddleware, { channel })],
  });
}

describe("inngest v4's useRealtime against Herald's run frames", () => {
  it('a run frame published over HTTP completes the run, sets result, and closes the hook', async () => {
    const ch = uniqueChannel('use-realtime');
    const { rec, view } = await mount(ch);
    await publishJson(herald.current.url, ch, 'progress', { pct: 50 });
    await rec.until((r) => r.messages.all.length === 1, 'the progress message');
    expect(rec.last().runStatus).toBe('running');

    const res = await request(publishUrl(herald.current.url, { channel: ch, kind: 'run' }), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ status: 'completed', output: { url: 'https://example.test/report.pdf' } }),
    });
    expect(res.status).toBe(200);
    const done = await rec.until((r) => r.runStatus === 'completed', 'runStatus completed');
    expect(done.result).toEqual({ url: 'https://example.test/report.pdf' });
    expect(done.error).toBeNull();
    // The hook closed its connection by itself (autoCloseOnTerminal), still mounted.
    await connectionsReach(herald.current.url, 0);
    await rec.until((r) => r.connectionStatus === 'closed', 'connection closed');
    // The run frame is not a message of a topic.
    expect(rec.last().messages.all).toHaveLength(1);
    act(() => view.unmount());
  });

  it('the v4 lifecycle middleware does the same with no publish in the function', async () => {
    const ch = uniqueChannel('use-realtime');
    const { rec, view } = await mount(ch);
    const fn = appV4(ch).createFunction(
      { id: 'report', triggers: [{ event: 'app/report' }] },
      async ({ step }) => {
        const pages = await step.run('render', () => 12);
        return { pages };
      },
    );
    const { result } = await new InngestTestEngine({ function: fn }).execute();
    expect(result).toEqual({ pages: 12 });
    const done = await rec.until((r) => r.runStatus === 'completed', 'runStatus completed');
    expect(done.result).toEqual({ pages: 12 });
    await connectionsReach(herald.current.url, 0);
    act(() => view.unmount());
  });

  it('the v4 lifecycle middleware reports a failed run', async () => {
    const ch = uniqueChannel('use-realtime');
    const { rec, view } = await mount(ch);
    const fn = appV4(ch).createFunction({ id: 'broken', triggers: [{ event: 'app/report' }] }, () => {
      throw new NonRetriableError('template missing');
    });
    await new InngestTestEngine({ function: fn }).execute();
    const done = await rec.until((r) => r.runStatus === 'failed', 'runStatus failed');
    expect(done.result).toBeUndefined();
    await connectionsReach(herald.current.url, 0);
    act(() => view.unmount());
  });
});
