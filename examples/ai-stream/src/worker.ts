/**
 * The "model": a plain Node process the backend starts per question. It streams the generated
 * answer token by token as one datastream with the SDK's `publishStream` — each token a chunk, in
 * order, stored by Herald as it goes.
 *
 * Usage: HERALD_URL=http://127.0.0.1:8288 node dist/worker.js <answerId> <prompt>
 */
import { Realtime } from '@herald/realtime';
import { answer } from './channels.js';
import { fakeAnswer } from './generator.js';

const [id, prompt] = process.argv.slice(2);
if (!id || prompt === undefined) throw new Error('usage: node dist/worker.js <answerId> <prompt>');
/** Pause before each token, as a model takes time to write; the tests make it shorter or longer. */
const tokenMs = Number(process.env.TOKEN_MS ?? 60);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function* paced(tokens: string[]): AsyncGenerator<string> {
  for (const token of tokens) {
    await sleep(tokenMs);
    yield token;
  }
}

const realtime = new Realtime({ baseUrl: process.env.HERALD_URL });
await realtime.publishStream(answer(id), 'text', paced(fakeAnswer(prompt)));
