/** Reading request bodies within their limits: size, and time (total for buffered bodies, idle for streamed ones). */
import type { IncomingMessage } from 'node:http';
import { requestTimeout, tooLarge } from '../protocol/errors.js';

/** How much of an over-limit body is read and discarded after the error answer, at most. */
export const LINGER_BYTES = 16 * 1024 * 1024;
/** How long an over-limit body is read and discarded after the error answer, at most, in milliseconds. */
export const LINGER_MS = 5_000;

/** An ECONNRESET error, as Node gives for a request whose client went away mid-body. */
function clientGone(): Error {
  return Object.assign(new Error('the client went away before sending the whole body'), {
    code: 'ECONNRESET',
  });
}

/**
 * A streamed body (`text/stream` publishes, tee), read as it arrives: each item is what one read
 * returns. It leaves the request alive when its consumer stops early (a limit was hit): destroying
 * it would reset the connection, and the client would never see the answer. While the consumer
 * waits for data, a body that sends nothing for `idleMs` ends the iteration and sets `idled`, so
 * the caller can end what it published and say why; there is no limit on the total time.
 */
export class StreamedBody implements AsyncIterable<Buffer>, AsyncIterator<Buffer> {
  /** True once the body was ended for sending nothing for `idleMs`. */
  idled = false;
  private ended = false;
  private done = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly onReadable = () => this.wake?.();
  private readonly onEnd = () => {
    this.ended = true;
    this.wake?.();
  };
  private readonly onError = (err: Error) => {
    this.failure ??= err;
    this.wake?.();
  };
  private readonly onClose = () => {
    if (!this.req.complete) this.failure ??= clientGone();
    this.ended = true;
    this.wake?.();
  };

  constructor(
    private readonly req: IncomingMessage,
    /** 0: no idle limit. */
    private readonly idleMs: number,
  ) {
    req.on('readable', this.onReadable);
    req.on('end', this.onEnd);
    req.on('error', this.onError);
    req.on('close', this.onClose);
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return this;
  }

  async next(): Promise<IteratorResult<Buffer>> {
    for (;;) {
      if (this.done) return { value: undefined, done: true };
      if (this.failure !== undefined) {
        this.stop();
        throw this.failure;
      }
      // Data already buffered is still taken after the end or a close, not after the idle cut.
      const chunk = this.idled ? null : (this.req.read() as Buffer | null);
      if (chunk !== null) return { value: chunk, done: false };
      if (this.ended) return this.finish();
      await this.waitForData();
    }
  }

  /** Called when the consumer stops early (`break`, a thrown limit): the request stays alive. */
  async return(): Promise<IteratorResult<Buffer>> {
    return this.finish();
  }

  private waitForData(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = undefined;
        if (this.timer !== undefined) clearTimeout(this.timer);
        this.timer = undefined;
        resolve();
      };
      if (this.idleMs > 0)
        this.timer = setTimeout(() => {
          this.idled = true;
          this.ended = true;
          this.wake?.();
        }, this.idleMs);
    });
  }

  private finish(): IteratorResult<Buffer> {
    this.stop();
    return { value: undefined, done: true };
  }

  private stop(): void {
    this.done = true;
    this.ended = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.wake = undefined;
    this.req.off('readable', this.onReadable);
    this.req.off('end', this.onEnd);
    this.req.off('error', this.onError);
    this.req.off('close', this.onClose);
  }
}

/**
 * Reads the whole body; past `limit` bytes throws 413 (never truncates, F3), and a body not
 * complete within `timeoutMs` (0: no limit) throws 408 — the caller answers and the connection is
 * closed. Event listeners rather than an async iterator: this runs for every publish, and the
 * iterator costs a promise per chunk.
 */
export function readBody(req: IncomingMessage, limit: number, timeoutMs = 0): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit)
    return Promise.reject(tooLarge(`body is ${declared} bytes; the limit is ${limit} bytes`, { limit }));
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    let timer: NodeJS.Timeout | undefined;
    const cleanup = () => {
      if (timer !== undefined) clearTimeout(timer);
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
      reject(clientGone());
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
    // Most bodies arrived with their headers: no timer for them.
    if (timeoutMs > 0 && !req.complete)
      timer = setTimeout(() => {
        cleanup();
        req.pause();
        reject(
          requestTimeout(
            `the request body did not arrive within ${timeoutMs / 1000} s (${size} bytes came); nothing was published`,
          ),
        );
      }, timeoutMs);
  });
}

/**
 * After answering before the body was read to its end (413, a refusal, a route that reads no
 * body), reads and discards the rest, so the client finishes sending and reads the answer instead
 * of a connection reset ("lingering close"). Bounded by LINGER_BYTES and LINGER_MS; past either the
 * connection is dropped, so a body trickled after the answer cannot hold it.
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
