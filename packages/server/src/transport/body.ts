/** Reading request bodies within a limit. */
import type { IncomingMessage } from 'node:http';
import { tooLarge } from '../protocol/errors.js';

/** Reads the whole body; past `limit` bytes throws 413 (never truncates, F3). */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit)
    throw tooLarge(`body is ${declared} bytes; the limit is ${limit} bytes`, { limit });
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(`body is larger than the limit of ${limit} bytes`, { limit });
    parts.push(chunk);
  }
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size);
}
