/**
 * realtimeMiddleware() through the inngest v3 SDK's own execution path (@inngest/test runs the
 * function in-process with its middleware), publishing to a real Herald that a subscriber watches.
 */
import { InngestTestEngine } from '@inngest/test';
import { Inngest } from 'inngest';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { rawPublish, take, uniqueChannel, until, withHerald } from '../test/support.js';
import { channel, subscribe, topic } from './index.js';
import { realtimeMiddleware } from './middleware.js';

const herald = withHerald();

function setup(ch: string) {
  const progress = channel(ch).addTopic(topic('progress').schema(z.object({ step: z.number() })));
  const inngest = new Inngest({
    id: 'mw-test',
    baseUrl: herald.current.url,
    middleware: [realtimeMiddleware()],
  });
  return { progress, inngest };
}

describe('realtimeMiddleware', () => {
  it('publishes from a function, once, as step publish:<channel>, with the run id', async () => {
    const ch = uniqueChannel('mw');
    const { progress, inngest } = setup(ch);
    const runIds: string[] = [];
    const fn = inngest.createFunction({ id: 'job' }, { event: 'app/job' }, async ({ publish, runId }) => {
      runIds.push(runId);
      const data = await publish(progress().progress({ step: 1 }));
      return { published: data };
    });
    const seen: { data: unknown; runId: string | undefined }[] = [];
    const sub = await subscribe({
      channel: ch,
      topics: ['progress'],
      apiBaseUrl: herald.current.url,
      onMessage: (m) => {
        seen.push({ data: m.data, runId: m.kind === 'data' ? m.runId : undefined });
      },
    });

    const { result, ctx } = await new InngestTestEngine({ function: fn }).execute();
    expect(result).toEqual({ published: { step: 1 } });
    const run = ctx.step.run as unknown as { mock: { calls: unknown[][] } };
    expect(run.mock.calls.map((c) => c[0])).toEqual([`publish:${ch}`]);

    // A marker published after the run: once it arrives, everything before it has too.
    await rawPublish(herald.current.url, ch, 'progress', '"marker"');
    await until(() => seen.some((m) => m.data === 'marker'), 'marker');
    // @inngest/test gives each execution a new run id (a real run keeps one); the step ran in the first.
    expect(seen).toEqual([
      { data: { step: 1 }, runId: runIds[0] },
      { data: 'marker', runId: undefined },
    ]);
    sub.close();
  });

  it('inside step.run it publishes directly (no nested step)', async () => {
    const ch = uniqueChannel('mw');
    const { progress, inngest } = setup(ch);
    const runIds: string[] = [];
    const fn = inngest.createFunction(
      { id: 'job2' },
      { event: 'app/job' },
      async ({ step, publish, runId }) => {
        runIds.push(runId);
        await step.run('work', async () => {
          await publish(progress().progress({ step: 2 }));
          return 'done';
        });
      },
    );
    const stream = await subscribe({
      channel: progress(),
      topics: ['progress'],
      apiBaseUrl: herald.current.url,
    });
    const t = new InngestTestEngine({ function: fn });
    const { ctx } = await t.execute();
    const run = ctx.step.run as unknown as { mock: { calls: unknown[][] } };
    expect(run.mock.calls.map((c) => c[0])).toEqual(['work']);
    const [m] = await take(stream, 1);
    expect(m).toMatchObject({ data: { step: 2 }, runId: runIds[0] });
    stream.close();
  });

  it('rejects invalid data before anything is sent (W13)', async () => {
    const ch = uniqueChannel('mw');
    const { progress, inngest } = setup(ch);
    const fn = inngest.createFunction({ id: 'job3' }, { event: 'app/job' }, async ({ publish }) => {
      await publish(progress().progress({ step: 'one' as unknown as number }));
    });
    const { error } = await new InngestTestEngine({ function: fn }).execute();
    expect(String((error as { message?: string })?.message ?? error)).toMatch(/invalid data/);
  });
});
