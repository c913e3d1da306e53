/**
 * The job-progress example's backend (plain `node:http`): it serves the page, mints subscription
 * tokens for a job's channel — the browser never holds a signing key — and starts a worker process
 * per import. Run: `npm start` (see README.md).
 *
 * The page subscribes first and only then asks for the worker to start, so it sees every message
 * from the first one (a live subscription starts with the next message published).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { ApiError, buildPage, exampleHerald, onShutdown, serveApp } from '@herald/examples-shared';
import { Realtime } from '@herald/realtime';
import { importJob } from './channels.js';

const herald = await exampleHerald();
// Server side only: with INNGEST_SIGNING_KEY set, this client authenticates with it.
const realtime = new Realtime({ baseUrl: herald.url });

/** Import id → its worker, once started. */
const imports = new Map<string, ChildProcess | undefined>();

function importId(query: URLSearchParams): string {
  const id = query.get('id') ?? '';
  if (!imports.has(id)) throw new ApiError(404, `no import ${JSON.stringify(id)}`);
  return id;
}

/** A token for exactly this job's channel and topics, valid for a minute (checked on connect). */
const tokenFor = (id: string) =>
  realtime.getSubscriptionToken({ channel: importJob(id), topics: ['progress', 'log'] });

const pageDir = fileURLToPath(new URL('./page/', import.meta.url));
await buildPage(fileURLToPath(new URL('../page/', import.meta.url)), pageDir);

const app = await serveApp({
  port: Number(process.env.PORT ?? 3001),
  pageDir,
  api: {
    'POST /api/imports': async () => {
      const id = randomUUID().slice(0, 8);
      imports.set(id, undefined);
      return { id, heraldUrl: herald.url, token: await tokenFor(id) };
    },
    // The page is subscribed: run the job (once).
    'POST /api/imports/start': ({ query }) => {
      const id = importId(query);
      if (imports.get(id) === undefined) {
        const worker = fork(fileURLToPath(new URL('./worker.js', import.meta.url)), [id], {
          env: { ...process.env, HERALD_URL: herald.url },
        });
        imports.set(id, worker);
      }
      return { started: true };
    },
    // The hook's refreshToken: a fresh token when the last one expired (a long import, a reconnect).
    'GET /api/imports/token': ({ query }) => tokenFor(importId(query)),
  },
});

onShutdown(async () => {
  for (const worker of imports.values()) worker?.kill();
  await app.close();
  herald.stop();
});

console.log(`
  job-progress example
    page:    ${app.url}
    Herald:  ${herald.url}/ ${herald.own ? '(started for this example; its inspector is there)' : '(HERALD_URL)'}
  Ctrl-C stops it.
`);
