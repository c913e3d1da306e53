/**
 * runLifecycleMiddleware() for inngest v3, through the SDK's own execution path (@inngest/test 0.1.x
 * runs the function in-process with its middleware) against a real Herald: with no publish in the
 * function, a subscriber sees `running` then `completed` (with the output) or, after the last
 * attempt only, `failed` (name and message; the stack only when asked); a Herald that cannot be
 * reached costs the function nothing. (inngest v4: test/inngest-v4/run-lifecycle.test.ts.)
 */
import { InngestTestEngine, mockCtx } from '@inngest/test';
import { Inngest, NonRetriableError } from 'inngest';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../../test/support/redis.js';
import { take, uniqueChannel, watchRunFrames, withHerald } from '../test/support.js';
import { runLifecycleOf, subscribe } from './index.js';
import { runLifecycleChannel, runLifecycleMiddleware } from './middleware.js';
import type { RunLifecycleOptions } from './run-lifecycle.js';

const herald = withHerald();

function client(options: RunLifecycleOptions, baseUrl = herald.current.url) {
  return new Inngest({ id: 'lifecycle-v3', baseUrl, middleware: [runLifecycleMiddleware(options)] });
}

const watch = (ch: string) => watchRunFrames(herald.current.url, ch);

describe('runLifecycleMiddleware (inngest v3)', () => {
  it('publishes running, then completed with the output, with no publish in the function', async () => {
    const ch = uniqueChannel('life');
    const w = await watch(ch);
    const fn = client({ channel: ch }).createFunction(
      { id: 'job' },
      { event: 'app/job' },
      async ({ step }) => {
        const rows = await step.run('load', () => 3);
        return { rows, at: new Date('2026-01-02T03:04:05Z') };
      },
    );
    const { result } = await new InngestTestEngine({ function: fn }).execute();
    expect(result).toEqual({ rows: 3, at: new Date('2026-01-02T03:04:05Z') });
    const frames = await w.frames();
    expect(frames.map((f) => f.status)).toEqual(['running', 'completed']);
    expect(frames[1]?.data).toEqual({
      status: 'completed',
      output: { rows: 3, at: '2026-01-02T03:04:05.000Z' },
    });
    expect(runLifecycleOf(frames[1]?.data)).toEqual({
      status: 'completed',
      result: { rows: 3, at: '2026-01-02T03:04:05.000Z' },
    });
    // Each carries its run id (@inngest/test gives every execution its own).
    for (const f of frames) expect(f.runId).toMatch(/^[0-9A-Z]{26}$/);
  });

  it('publishes failed after the last attempt only: not on an attempt that will be retried', async () => {
    const ch = uniqueChannel('life');
    const w = await watch(ch);
    const fn = client({ channel: ch }).createFunction(
      { id: 'flaky', retries: 2 },
      { event: 'app/job' },
      () => {
        throw new Error('database unavailable');
      },
    );
    // Attempt 0 of 3: retried, so the run is still running.
    expect((await new InngestTestEngine({ function: fn }).execute()).error).toBeDefined();
    // Attempt 2 of 3 (the last): the run failed. Not the first attempt, so no second `running`.
    // (@inngest/test reads transformCtx from the engine's options, not execute()'s.)
    const lastAttempt = new InngestTestEngine({
      function: fn,
      transformCtx: (ctx) => ({ ...mockCtx(ctx), attempt: 2, maxAttempts: 3 }),
    });
    expect((await lastAttempt.execute()).error).toBeDefined();
    const frames = await w.frames();
    expect(frames.map((f) => f.data)).toEqual([
      { status: 'running' },
      { status: 'failed', error: { name: 'Error', message: 'database unavailable' } },
    ]);
  });

  it('publishes failed at once for a NonRetriableError, with the stack only when asked', async () => {
    const ch = uniqueChannel('life');
    const w = await watch(ch);
    const make = (includeStack: boolean) =>
      client({ channel: ch, includeStack }).createFunction(
        { id: `fatal-${includeStack}` },
        { event: 'app/job' },
        () => {
          throw new NonRetriableError('bad input');
        },
      );
    await new InngestTestEngine({ function: make(false) }).execute();
    await new InngestTestEngine({ function: make(true) }).execute();
    const failed = (await w.frames()).filter((f) => f.status === 'failed').map((f) => f.data);
    expect(failed).toEqual([
      { status: 'failed', error: { name: 'NonRetriableError', message: 'bad input' } },
      {
        status: 'failed',
        error: {
          name: 'NonRetriableError',
          message: 'bad input',
          stack: expect.stringContaining('bad input'),
        },
      },
    ]);
  });

  it('goes to run:<runId> by default; history gives a late subscriber the outcome', async () => {
    const fn = client({}).createFunction({ id: 'default' }, { event: 'app/job' }, () => 'ok');
    // No steps: one execution, one run id (ctx.runId) for both frames.
    const { ctx } = await new InngestTestEngine({ function: fn }).execute();
    const sub = await subscribe({
      channel: runLifecycleChannel(ctx.runId),
      topics: ['x'],
      runLifecycle: true,
      since: 'oldest',
      apiBaseUrl: herald.current.url,
    });
    const got = await take(sub, 2);
    expect(got.map((m) => m.data)).toEqual([{ status: 'running' }, { status: 'completed', output: 'ok' }]);
    expect(got.map((m) => m.runId)).toEqual([ctx.runId, ctx.runId]);
    sub.close();
  });

  it('asks a channel function with the run, and publishes nothing when it gives undefined', async () => {
    const asked: unknown[] = [];
    const fn = client({
      channel: (run) => {
        asked.push(run);
        return undefined;
      },
      onPublishError: (error) => asked.push(error),
    }).createFunction({ id: 'probe' }, { event: 'app/job' }, () => 'skipped');
    const { ctx } = await new InngestTestEngine({ function: fn }).execute({
      events: [{ name: 'app/job', data: { id: 7 } }],
    });
    const run = { runId: ctx.runId, fnId: 'probe', event: expect.objectContaining({ data: { id: 7 } }) };
    expect(asked).toEqual([run, run]); // for running and completed; no error, nothing published
  });

  it('never fails the function when Herald cannot be reached: it reports the failure', async () => {
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const reported: [string, string][] = [];
    const fn = client(
      {
        channel: 'unreachable',
        timeoutMs: 2_000,
        onPublishError: (error, update) => reported.push([update.status, error.message]),
      },
      nowhere,
    ).createFunction({ id: 'robust' }, { event: 'app/job' }, async ({ step }) => {
      return await step.run('work', () => 'still done');
    });
    const { result, error } = await new InngestTestEngine({ function: fn }).execute();
    expect(error).toBeUndefined();
    expect(result).toBe('still done');
    expect(reported.map(([status]) => status)).toEqual(['running', 'completed']);
    expect(reported[0]?.[1]).toMatch(/Publishing the run status "running" to channel "unreachable" failed/);
  });
});
