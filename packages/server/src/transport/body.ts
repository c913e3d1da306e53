/** Reading request bodies within a limit. */
import type { IncomingMessage } from 'node:http';
import { tooLarge } from '../protocol/errors.js';

/** How much of an over-limit body is read and discarded after the error answer, at most. */
export const LINGER_BYTES = 16 * 1024 * 1024;
/** How long an over-limit body is read and discarded after the error answer, at most, in milliseconds. */
export const LINGER_MS = 5_000;

/**
 * The body as an async iterable that leaves the request alive when its consumer stops early (a limit
 * was hit): destroying it would reset the connection, and the client would never see the answer.
 */
export function bodyChunks(req: IncomingMessage): AsyncIterable<Buffer> {
  return { [Symbol.asyncIterator]: () => req.iterator({ destroyOnReturn: false }) };
}

/**
 * Reads the whole body; past `limit` bytes throws 413 (never truncates, F3). Event listeners rather
 * than an async iterator: this runs for every publish, and the iterator costs a promise per chunk.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit)
    return Promise.reject(tooLarge(`body is ${declared} bytes; the limit is ${limit} bytes`, { limit }));
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        // Leave the request alive (paused): the caller answers 413 and then discards the rest.
        req.pause();
        reject(tooLarge(`body is larger than the limit of ${limit} bytes`, { limit }));
        return;
      }
      parts.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onClose = () => {
      if (req.complete) return;
      cleanup();
      reject(
        Object.assign(new Error('the client went away before sending the whole body'), {
          code: 'ECONNRESET',
        }),
      );
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/**
 * After answering before the body was read to its end (413), reads and discards the rest, so the
 * client finishes sending and reads the answer instead of a connection reset ("lingering close").
 * Bounded by LINGER_BYTES and LINGER_MS; past either the connection is dropped.
 */
export function discardRest(req: IncomingMessage): void {
  if (req.complete || req.destroyed) return;
  let seen = 0;
  const drop = () => req.socket.destroy();
  const timer = setTimeout(drop, LINGER_MS);
  timer.unref();
  const done = () => clearTimeout(timer);
  req.on('end', done);
  req.on('close', done);
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > LINGER_BYTES) {
      done();
      drop();
    }
  });
  req.resume();
}
