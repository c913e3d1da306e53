/**
 * One channel per answer, `answer:<id>`, with one topic: `text`, the answer as a datastream
 * (start, a chunk per token, end) — shared by the worker, the backend and the page.
 */
import { channel, topic } from '@herald/realtime';

export const answer = channel((id: string) => `answer:${id}`).addTopic(topic('text').type<string>());
