/**
 * A real `inngest` v4 app (4.24, with `@inngest/test` 1.x; this workspace nests them apart from the
 * root's v3) whose only base URL is Herald in sidecar mode, with a stand-in Inngest server behind
 * it recording what reaches it. Configured only through the environment, as deployed apps are:
 * - dev: `INNGEST_DEV=<Herald's URL>` against `herald dev` (auth off);
 * - cloud: `INNGEST_BASE_URL=<Herald's URL>`, `INNGEST_SIGNING_KEY`, `INNGEST_EVENT_KEY` against
 *   `herald start` with the same signing key (what self-hosted Inngest and Herald share).
 * In both, the app registers (its `/fn/register` reaches the upstream, signing key and all), sends
 * events (`/e/<key>` reaches the upstream), and its realtime publishes — `inngest.realtime.publish`
 * and `step.realtime.publish` in a function run by `@inngest/test` — reach a subscriber of v4's own
 * `subscribe()`, whose token the app minted from Herald. In dev mode the function also runs the way
 * the dev server runs it (calls to its serve endpoint, step by step). No realtime request reaches
 * the upstream.
 */
import { InngestTestEngine } from '@inngest/test';
import { Inngest, realtime, staticSchema } from 'inngest';
import { serve } from 'inngest/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DEFAULT_ENV, eventually } from '../server/helpers.js';
import {
  lastRegistration,
  type ServedApp,
  SIDECAR_MODES,
  type Sidecar,
  startSidecar,
} from '../support/inngest-app.js';

// v4's subscribe() opens a global WebSocket, which Node 20 does not have.
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

const job = realtime.channel({
  name: ({ id }: { id: string }) => `job:${id}`,
  topics: {
    progress: { schema: staticSchema<{ pct: number }>() },
    log: { schema: staticSchema<{ line: string }>() },
  },
});

describe.each(SIDECAR_MODES)('an inngest v4 app in $name mode, with Herald as its only base URL', (mode) => {
  let sidecar: Sidecar;
  let inngest: Inngest;
  let app: ServedApp;
  let n = 0;
  const jobId = () => `${mode.name}-${++n}-${Date.now()}`;

  const importJob = () =>
    inngest.createFunction({ id: 'import', triggers: [{ event: 'app/import' }] }, async ({ event, step }) => {
      const id = (event.data as { id: string }).id;
      for (const pct of [25, 100])
        await step.realtime.publish(`progress-${pct}`, job({ id }).progress, { pct });
      return { imported: id };
    });

  beforeAll(async () => {
    sidecar = await startSidecar(mode);
    inngest = new Inngest({ id: `herald-sidecar-v4-${mode.name}` });
    app = await sidecar.serve(serve({ client: inngest, functions: [importJob()] }));
  });

  afterAll(() => sidecar?.stop());

  /** v4's own subscriber, with a token the app mints from Herald; collects what it receives. */
  async function subscriber(id: string) {
    const received: { topic?: string; data: unknown; runId?: string }[] = [];
    const sub = await inngest.realtime.subscribe({
      channel: job({ id }),
      topics: ['progress', 'log'],
      onMessage: (m) => {
        received.push(m as (typeof received)[number]);
      },
    });
    return { received, close: () => sub.close() };
  }

  it('registers: the sync reaches the upstream as /fn/register, with the app and its functions', async () => {
    const { status, body } = await app.sync();
    expect(status).toBe(200);
    expect(body).toMatchObject({ modified: true });
    expect(lastRegistration(sidecar.upstream)).toEqual({
      method: 'POST',
      authorization: mode.authorization ?? expect.anything(),
      url: app.url,
      appName: `herald-sidecar-v4-${mode.name}`,
      functions: [[`herald-sidecar-v4-${mode.name}-import`, [{ event: 'app/import' }]]],
    });
  });

  it('sends events: /e/<key> reaches the upstream, and the ids it answered come back', async () => {
    const { ids } = await inngest.send([
      { name: 'app/import', data: { id: 'a' } },
      { name: 'app/import', data: { id: 'b' } },
    ]);
    expect(ids).toHaveLength(2);
    const sent = sidecar.upstream.to(`/e/${mode.eventKey}`).at(-1);
    expect(sent?.method).toBe('POST');
    expect((JSON.parse(sent?.body.toString() ?? '[]') as { data: unknown }[]).map((e) => e.data)).toEqual([
      { id: 'a' },
      { id: 'b' },
    ]);
  });

  it("inngest.realtime.publish reaches v4's own subscriber through Herald", async () => {
    const id = jobId();
    const sub = await subscriber(id);
    await inngest.realtime.publish(job({ id }).log, { line: 'started' });
    await inngest.realtime.publish(job({ id }).progress, { pct: 5 });
    await eventually(() => sub.received.length >= 2, 'two messages');
    expect(sub.received.map((m) => [m.topic, m.data])).toEqual([
      ['log', { line: 'started' }],
      ['progress', { pct: 5 }],
    ]);
    sub.close();
  });

  it("step.realtime.publish in a run (by @inngest/test) reaches v4's own subscriber through Herald", async () => {
    const id = jobId();
    const sub = await subscriber(id);
    const { result } = await new InngestTestEngine({
      function: importJob(),
      events: [{ name: 'app/import', data: { id } }],
    }).execute();
    expect(result).toEqual({ imported: id });
    await eventually(() => sub.received.length >= 2, 'two progress messages');
    expect(sub.received.map((m) => m.data)).toEqual([{ pct: 25 }, { pct: 100 }]);
    // Published with the run's id (@inngest/test makes one per execution, so only its form is known).
    expect(sub.received[0]).toMatchObject({
      topic: 'progress',
      runId: expect.stringMatching(/^[0-9A-Z]{26}$/),
    });
    sub.close();
  });

  // Unsigned calls, as the dev server makes them (Inngest's calls to the app never pass Herald).
  // Only in dev mode: cloud mode signs Inngest's calls, which this stand-in does not.
  if (mode.name === 'dev')
    it('step.realtime.publish in a run driven as the dev server drives it reaches the subscriber', async () => {
      // The Inngest server calls the app's serve endpoint directly (at the URL the app registered),
      // once per step, with the results so far, until the function returns (200).
      const id = jobId();
      const sub = await subscriber(id);
      const fnId = `herald-sidecar-v4-${mode.name}-import`;
      const runId = '01K3ABCDEFGHJKMNPQRSTVWXYZ';
      const steps: Record<string, unknown> = {};
      const event = { name: 'app/import', data: { id } };
      let answer: unknown;
      for (let call = 0; call < 10 && answer === undefined; call++) {
        const res = await fetch(`${app.url}?fnId=${fnId}&stepId=step`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({
            event,
            events: [event],
            steps,
            ctx: { run_id: runId, attempt: 0, stack: { stack: Object.keys(steps), current: 0 } },
            version: 2,
          }),
        });
        const body = (await res.json()) as unknown;
        if (res.status === 200) answer = body;
        else for (const op of body as { id: string; data: unknown }[]) steps[op.id] = { data: op.data };
      }
      expect(answer).toEqual({ imported: id });
      await eventually(() => sub.received.length >= 2, 'two progress messages');
      expect(sub.received.map((m) => [m.data, m.runId])).toEqual([
        [{ pct: 25 }, runId],
        [{ pct: 100 }, runId],
      ]);
      sub.close();
    });

  it('leaves realtime to Herald: nothing under /v1/realtime/ reached the upstream', () => {
    expect(sidecar.upstream.requests.filter((r) => r.path.startsWith('/v1/realtime/'))).toEqual([]);
    expect(sidecar.upstream.requests.length).toBeGreaterThan(0);
  });

  it("mints tokens for the app's own env, as the app's clients expect", async () => {
    const token = await inngest.realtime.token({ channel: job({ id: 'x' }), topics: ['progress'] });
    const payload = JSON.parse(
      Buffer.from((token.key as string).split('.')[1] as string, 'base64url').toString(),
    );
    expect(payload).toMatchObject({ env: DEFAULT_ENV, topics: [{ channel: 'job:x', name: 'progress' }] });
  });
});
