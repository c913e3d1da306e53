/**
 * The import job's channel, shared by the worker (publishes), the backend (mints tokens) and the
 * page (subscribes): one channel per job, `import:<id>`, so a token for one job sees only that job.
 */
import { channel, topic } from '@herald/realtime';

export interface Progress {
  pct: number;
  rows: number;
  total: number;
}

export const importJob = channel((jobId: string) => `import:${jobId}`)
  .addTopic(topic('progress').type<Progress>())
  .addTopic(topic('log').type<string>());
