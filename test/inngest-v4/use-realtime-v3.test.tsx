/**
 * `inngest` v4's `useRealtime` (React 19 StrictMode, DOM) following a run of an `inngest` v3 app
 * whose lifecycle Herald's v3 middleware publishes, with no publish in the function: `runStatus`
 * becomes `completed`, `result` the output, and the hook closes its connection. A file of its own:
 * v3 and v4 keep their async context under the same global key, so one process cannot run both.
 */
import { runLifecycleMiddleware as runLifecycleMiddlewareV3 } from '@herald/realtime/middleware';
import { act } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { InngestTestEngine as InngestTestEngineV3 } from '../../node_modules/@inngest/test/dist/index.js';
import { Inngest as InngestV3 } from '../../node_modules/inngest/index.js';
import { connectionsReach } from '../../packages/realtime/test/hooks.js';
import { uniqueChannel, withHerald } from '../../packages/realtime/test/support.js';
import { mountUseRealtime, useGlobalWebSocket } from './use-realtime-support.js';

const herald = withHerald();
useGlobalWebSocket();

describe("inngest v4's useRealtime following an inngest v3 run", () => {
  it('the v3 lifecycle middleware does the same with no publish in the function', async () => {
    const ch = uniqueChannel('use-realtime');
    const { rec, view } = await mountUseRealtime(herald.current.url, ch);
    const inngestV3 = new InngestV3({
      id: 'use-realtime-v3',
      baseUrl: herald.current.url,
      middleware: [runLifecycleMiddlewareV3({ channel: ch })],
    });
    const fn = inngestV3.createFunction({ id: 'report' }, { event: 'app/report' }, async ({ step }) => {
      const pages = await step.run('render', () => 7);
      return { pages };
    });
    const { result } = await new InngestTestEngineV3({ function: fn }).execute();
    expect(result).toEqual({ pages: 7 });
    const done = await rec.until((r) => r.runStatus === 'completed', 'runStatus completed');
    expect(done.result).toEqual({ pages: 7 });
    await connectionsReach(herald.current.url, 0);
    act(() => view.unmount());
  });
});
