/**
 * A real `inngest` v3 app (3.54, with `@inngest/realtime` 0.4.7's middleware and `@inngest/test`
 * 0.1.9) whose only base URL is Herald in sidecar mode, with a stand-in Inngest server behind it
 * recording what reaches it. Configured only through the environment, as deployed apps are:
 * - dev: `INNGEST_DEV=<Herald's URL>` against `herald dev` (auth off);
 * - cloud: `INNGEST_BASE_URL=<Herald's URL>`, `INNGEST_SIGNING_KEY`, `INNGEST_EVENT_KEY` against
 *   `herald start` with the same signing key.
 * In both, the app registers (`/fn/register` reaches the upstream), sends events (`/e/<key>`
 * reaches the upstream), and what its `realtimeMiddleware()` publishes in a run (by @inngest/test)
 * reaches a subscriber of 0.4.7's `subscribe()`, whose token the app minted from Herald. The v4
 * app is in test/inngest-v4/sidecar.test.ts.
 */
import { InngestTestEngine } from '@inngest/test';
import { Inngest } from 'inngest';
import { serve } from 'inngest/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  lastRegistration,
  type ServedApp,
  SIDECAR_MODES,
  type Sidecar,
  startSidecar,
} from '../support/inngest-app.js';
import { eventually } from './helpers.js';

// @inngest/realtime 0.4.7 opens a global WebSocket, which Node 20 does not have.
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

const { realtimeMiddleware } = await import('@inngest/realtime/middleware');
const { subscribe } = await import('@inngest/realtime');

describe.each(SIDECAR_MODES)('an inngest v3 app in $name mode, with Herald as its only base URL', (mode) => {
  let sidecar: Sidecar;
  const appId = `herald-sidecar-v3-${mode.name}`;
  const makeClient = () => new Inngest({ id: appId, middleware: [realtimeMiddleware()] });
  let inngest: ReturnType<typeof makeClient>;
  let app: ServedApp;

  const importJob = () =>
    inngest.createFunction({ id: 'import' }, { event: 'app/import' }, async ({ event, publish }) => {
      const id = (event.data as { id: string }).id;
      for (const pct of [25, 100]) await publish({ channel: `job:${id}`, topic: 'progress', data: { pct } });
      return { imported: id };
    });

  beforeAll(async () => {
    sidecar = await startSidecar(mode);
    inngest = makeClient();
    app = await sidecar.serve(serve({ client: inngest, functions: [importJob()] }));
  });

  afterAll(() => sidecar?.stop());

  it('registers: the sync reaches the upstream as /fn/register, with the app and its functions', async () => {
    const { status, body } = await app.sync();
    expect(status).toBe(200);
    expect(body).toMatchObject({ modified: true });
    expect(lastRegistration(sidecar.upstream)).toEqual({
      method: 'POST',
      authorization: mode.authorization ?? expect.anything(),
      url: app.url,
      appName: appId,
      functions: [[`${appId}-import`, [{ event: 'app/import' }]]],
    });
  });

  it('sends events: /e/<key> reaches the upstream, and the ids it answered come back', async () => {
    const { ids } = await inngest.send({ name: 'app/import', data: { id: 'a' } });
    expect(ids).toHaveLength(1);
    const sent = sidecar.upstream.to(`/e/${mode.eventKey}`).at(-1);
    expect(sent?.method).toBe('POST');
    expect(JSON.parse(sent?.body.toString() ?? '[]')).toMatchObject([
      { name: 'app/import', data: { id: 'a' } },
    ]);
  });

  it("realtimeMiddleware's publish in a run (by @inngest/test) reaches 0.4.7's subscriber through Herald", async () => {
    const id = `${mode.name}-${Date.now()}`;
    const stream = await subscribe({ app: inngest, channel: `job:${id}`, topics: ['progress'] });
    const reader = (
      stream as unknown as ReadableStream<{ topic: string; data: unknown; runId?: string }>
    ).getReader();
    const received: { topic: string; data: unknown; runId?: string }[] = [];
    const reading = (async () => {
      for (let r = await reader.read(); !r.done; r = await reader.read()) received.push(r.value);
    })();
    const { result } = await new InngestTestEngine({
      function: importJob() as never,
      events: [{ name: 'app/import', data: { id } }],
    }).execute();
    expect(result).toEqual({ imported: id });
    await eventually(() => received.length >= 2, 'two progress messages');
    expect(received.map((m) => [m.topic, m.data])).toEqual([
      ['progress', { pct: 25 }],
      ['progress', { pct: 100 }],
    ]);
    expect(received[0]?.runId).toEqual(expect.any(String));
    await reader.cancel();
    await reading;
  });

  it('leaves realtime to Herald: nothing under /v1/realtime/ reached the upstream', () => {
    expect(sidecar.upstream.requests.filter((r) => r.path.startsWith('/v1/realtime/'))).toEqual([]);
    expect(sidecar.upstream.requests.length).toBeGreaterThan(0);
  });
});
