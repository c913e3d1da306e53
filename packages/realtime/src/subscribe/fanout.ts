/**
 * One input, many bounded output streams (the role of 0.4.7's StreamFanout). Each output has its own
 * transform and its own bound (see BoundedStream); one slow or abandoned output never holds up or
 * grows the others, and new outputs only see items written after they attach.
 */
import { RealtimeError } from '../errors.js';
import { BoundedStream, DEFAULT_MAX_BUFFERED } from './bounded-stream.js';

/** Return it from a transform to skip an item for that stream. */
export const SKIP: unique symbol = Symbol('skip');

/** A transform with a lifecycle, for outputs that hold state (e.g. per-datastream chunk streams). */
export interface StreamMapper<T, U> {
  map(item: T): U | typeof SKIP;
  /** The output ended normally. */
  end?(): void;
  /** The output ended with an error. */
  fail?(error: unknown): void;
}

export interface OutputOptions {
  /** Most items held unread before the output fails with a BufferOverflowError. */
  maxBuffered?: number;
  /** Attach only when first read: for a stream that may never be read (no spare buffer behind the user's back). */
  lazy?: boolean;
  /** Names the output in overflow errors. */
  name?: string;
}

interface Output<T> {
  write(item: T): void;
  end(): void;
  fail(error: unknown): void;
}

export class Fanout<T> {
  private readonly outputs = new Set<Output<T>>();
  private state: 'open' | 'ended' | 'failed' = 'open';
  private failure: unknown;

  /** Outputs currently attached. */
  size(): number {
    return this.outputs.size;
  }

  createStream<U = T>(
    transform?: ((item: T) => U | typeof SKIP) | StreamMapper<T, U>,
    options: OutputOptions = {},
  ): ReadableStream<U> {
    const mapper: StreamMapper<T, U> =
      transform === undefined
        ? { map: (item) => item as unknown as U }
        : typeof transform === 'function'
          ? { map: transform }
          : transform;
    const stream: BoundedStream<U> = new BoundedStream<U>(
      options.maxBuffered ?? DEFAULT_MAX_BUFFERED,
      options.name ?? 'A subscription stream',
      {
        onCancel: () => {
          detach();
          mapper.end?.();
        },
        onFirstPull: () => {
          if (options.lazy) attach();
        },
      },
    );
    const output: Output<T> = {
      write: (item) => {
        const mapped = mapper.map(item);
        if (mapped === SKIP) return;
        if (!stream.push(mapped)) {
          // Overflowed (the stream fails itself) or ended: stop feeding it.
          detach();
          mapper.fail?.(
            new RealtimeError('buffer_overflow', `${options.name ?? 'A subscription stream'} overflowed`),
          );
        }
      },
      end: () => {
        stream.end();
        mapper.end?.();
      },
      fail: (error) => {
        stream.fail(error);
        mapper.fail?.(error);
      },
    };
    const detach = () => {
      this.outputs.delete(output);
    };
    const attach = () => {
      if (this.state === 'ended') output.end();
      else if (this.state === 'failed') output.fail(this.failure);
      else this.outputs.add(output);
    };
    if (!options.lazy) attach();
    return stream.readable;
  }

  write(item: T): void {
    for (const o of this.outputs) o.write(item);
  }

  /** Ends every output once it has delivered what it holds. */
  close(): void {
    if (this.state !== 'open') return;
    this.state = 'ended';
    for (const o of this.outputs) o.end();
    this.outputs.clear();
  }

  /** Errors every output once it has delivered what it holds. */
  fail(error: unknown): void {
    if (this.state !== 'open') return;
    this.state = 'failed';
    this.failure = error;
    for (const o of this.outputs) o.fail(error);
    this.outputs.clear();
  }
}
