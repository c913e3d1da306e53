/**
 * `runLifecycleMiddleware` (`@herald/realtime/lifecycle`) in an `inngest` v4 app: the function,
 * run by @inngest/test 1.x through v4's own execution engine and middleware hooks, publishes
 * nothing itself, and a subscriber of the run's channel sees `running` then `completed` with the
 * output, or — after the last attempt only — `failed` with the error. Its types fit v4's
 * `middleware` option (this file is type-checked against v4). Lives here so `inngest` is v4.
 */
import { type Expect, type IsEqual, runLifecycleOf, subscribe } from '@herald/realtime';
import { runLifecycleChannel, runLifecycleMiddleware } from '@herald/realtime/lifecycle';
import { InngestTestEngine, mockCtx } from '@inngest/test';
import { type GetFunctionOutput, Inngest, Middleware, NonRetriableError } from 'inngest';
import { describe, expect, it } from 'vitest';
import { take, uniqueChannel, watchRunFrames, withHerald } from '../../packages/realtime/test/support.js';

const herald = withHerald();

function app(channel?: string) {
  return new Inngest({
    id: 'lifecycle-v4',
    baseUrl: herald.current.url,
    middleware: [runLifecycleMiddleware(Middleware.BaseMiddleware, channel === undefined ? {} : { channel })],
  });
}

/** The run frames' data published to a channel before `frames()` is called. */
async function watch(ch: string) {
  const w = await watchRunFrames(herald.current.url, ch);
  return { frames: async () => (await w.frames()).map((f) => f.data) };
}

describe('runLifecycleMiddleware (inngest v4)', () => {
  it('publishes running, then completed with the output, with no publish in the function', async () => {
    const ch = uniqueChannel('v4life');
    const w = await watch(ch);
    const fn = app(ch).createFunction({ id: 'job', triggers: [{ event: 'app/job' }] }, async ({ step }) => {
      const rows = await step.run('load', () => 3);
      return { rows };
    });
    const { result } = await new InngestTestEngine({ function: fn }).execute();
    expect(result).toEqual({ rows: 3 });
    const frames = await w.frames();
    expect(frames).toEqual([{ status: 'running' }, { status: 'completed', output: { rows: 3 } }]);
    expect(runLifecycleOf(frames[1])).toEqual({ status: 'completed', result: { rows: 3 } });
  });

  it('publishes failed after the last attempt only', async () => {
    const ch = uniqueChannel('v4life');
    const w = await watch(ch);
    const fn = app(ch).createFunction({ id: 'flaky', retries: 1, triggers: [{ event: 'app/job' }] }, () => {
      throw new Error('upstream timed out');
    });
    // Attempt 0 of 2: v4 says it will be retried (isFinalAttempt false): still running.
    expect((await new InngestTestEngine({ function: fn }).execute()).error).toBeDefined();
    // Attempt 1 of 2, the last (@inngest/test reads transformCtx from the engine's options).
    const last = new InngestTestEngine({
      function: fn,
      transformCtx: (ctx) => ({ ...mockCtx(ctx), attempt: 1, maxAttempts: 2 }),
    });
    expect((await last.execute()).error).toBeDefined();
    expect(await w.frames()).toEqual([
      { status: 'running' },
      { status: 'failed', error: { name: 'Error', message: 'upstream timed out' } },
    ]);
  });

  it('publishes failed at once for a NonRetriableError, without the stack', async () => {
    const ch = uniqueChannel('v4life');
    const w = await watch(ch);
    const fn = app(ch).createFunction({ id: 'fatal', triggers: [{ event: 'app/job' }] }, () => {
      throw new NonRetriableError('bad input');
    });
    await new InngestTestEngine({ function: fn }).execute();
    expect(await w.frames()).toEqual([
      { status: 'running' },
      { status: 'failed', error: { name: 'NonRetriableError', message: 'bad input' } },
    ]);
  });

  it('goes to run:<runId> by default, with the run id on each frame', async () => {
    const fn = app().createFunction({ id: 'default', triggers: [{ event: 'app/job' }] }, () => 'ok');
    const { ctx } = await new InngestTestEngine({ function: fn }).execute();
    const sub = await subscribe({
      channel: runLifecycleChannel(ctx.runId),
      topics: ['any'],
      runLifecycle: true,
      since: 'oldest',
      apiBaseUrl: herald.current.url,
    });
    const got = await take(sub, 2);
    expect(got.map((m) => [m.data, m.runId])).toEqual([
      [{ status: 'running' }, ctx.runId],
      [{ status: 'completed', output: 'ok' }, ctx.runId],
    ]);
    sub.close();
  });

  it("leaves the functions' types as they are (output JSON-ified, as with no middleware)", () => {
    const fn = app().createFunction({ id: 'typed', triggers: [{ event: 'app/job' }] }, () => ({
      at: new Date(),
      n: 1,
    }));
    const plain = new Inngest({ id: 'plain' }).createFunction({ id: 'typed' }, () => ({
      at: new Date(),
      n: 1,
    }));
    type Out = GetFunctionOutput<typeof fn>;
    const same: Expect<IsEqual<Out, GetFunctionOutput<typeof plain>>> = true;
    const jsonified: Expect<IsEqual<Out, { at: string; n: number }>> = true;
    expect([same, jsonified]).toEqual([true, true]);
  });

  it('refuses a missing base class with a clear error', () => {
    expect(() => runLifecycleMiddleware(undefined as never)).toThrow(/Middleware\.BaseMiddleware/);
  });
});
