/**
 * The ai-stream example's backend (plain `node:http`): it serves the page, starts a worker per
 * question, and mints tokens for an answer's channel. Run: `npm start` (see README.md).
 *
 * The worker starts at once: the page subscribes from the oldest message Herald keeps for the
 * answer's channel, so it misses nothing it was not yet listening for.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { ApiError, buildPage, exampleHerald, onShutdown, serveApp } from '@herald/examples-shared';
import { Realtime } from '@herald/realtime';
import { answer } from './channels.js';

const herald = await exampleHerald();
// Server side only: with INNGEST_SIGNING_KEY set, this client authenticates with it.
const realtime = new Realtime({ baseUrl: herald.url });

const answers = new Map<string, { prompt: string; worker: ChildProcess }>();

/** What the page needs to follow an answer: its prompt, where Herald is, and a token for it. */
async function answerInfo(id: string) {
  const a = answers.get(id);
  if (!a) throw new ApiError(404, `no answer ${JSON.stringify(id)}`);
  const token = await realtime.getSubscriptionToken({ channel: answer(id), topics: ['text'] });
  return { id, prompt: a.prompt, heraldUrl: herald.url, token };
}

const pageDir = fileURLToPath(new URL('./page/', import.meta.url));
await buildPage(fileURLToPath(new URL('../page/', import.meta.url)), pageDir);

const app = await serveApp({
  port: Number(process.env.PORT ?? 3002),
  pageDir,
  api: {
    'POST /api/answers': ({ body }) => {
      const prompt = (body as { prompt?: unknown } | undefined)?.prompt;
      if (typeof prompt !== 'string' || !prompt.trim() || prompt.length > 500)
        throw new ApiError(400, 'ask a question (at most 500 characters)');
      const id = randomUUID().slice(0, 8);
      const worker = fork(fileURLToPath(new URL('./worker.js', import.meta.url)), [id, prompt], {
        env: { ...process.env, HERALD_URL: herald.url },
      });
      answers.set(id, { prompt, worker });
      return answerInfo(id);
    },
    // On load (a reload, a shared link) and when a token expired.
    'GET /api/answers': ({ query }) => answerInfo(query.get('id') ?? ''),
  },
});

onShutdown(async () => {
  for (const a of answers.values()) a.worker.kill();
  await app.close();
  herald.stop();
});

console.log(`
  ai-stream example
    page:    ${app.url}
    Herald:  ${herald.url}/ ${herald.own ? '(started for this example; its inspector is there)' : '(HERALD_URL)'}
  Ctrl-C stops it.
`);
