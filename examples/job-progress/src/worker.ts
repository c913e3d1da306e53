/**
 * The background job, a plain Node process the backend starts per import: it "imports" a CSV of
 * customers in batches and reports each step to the job's channel with the SDK's standalone
 * `Realtime` client — the same calls an Inngest function makes with `realtimeMiddleware` (README).
 *
 * Usage: HERALD_URL=http://127.0.0.1:8288 node dist/worker.js <jobId>
 */
import { Realtime } from '@herald/realtime';
import { importJob } from './channels.js';

const TOTAL_ROWS = 2400;
const BATCH_ROWS = 240;

const jobId = process.argv[2];
if (!jobId) throw new Error('usage: node dist/worker.js <jobId>');
/** How long a batch "takes"; the tests make it short. */
const stepMs = Number(process.env.JOB_STEP_MS ?? 350);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// With a signing key in the environment (INNGEST_SIGNING_KEY), publishing is authenticated.
const realtime = new Realtime({ baseUrl: process.env.HERALD_URL });
const job = importJob(jobId);

await realtime.publish(job.log(`Reading customers.csv: ${TOTAL_ROWS.toLocaleString('en-US')} rows`));
await realtime.publish(job.progress({ pct: 0, rows: 0, total: TOTAL_ROWS }));
for (let rows = BATCH_ROWS; rows <= TOTAL_ROWS; rows += BATCH_ROWS) {
  await sleep(stepMs); // the work of one batch
  // Each publish resolves once Herald stored the message: the order on the channel is this order.
  await realtime.publish(
    job.progress({ pct: Math.round((rows / TOTAL_ROWS) * 100), rows, total: TOTAL_ROWS }),
  );
  await realtime.publish(job.log(`Imported rows ${rows - BATCH_ROWS + 1}–${rows}`));
}
await realtime.publish(job.log(`Done: ${TOTAL_ROWS.toLocaleString('en-US')} customers imported`));
