/**
 * A ReadableStream fed by pushes, with a hard cap on what it holds unread.
 *
 * 0.4.7 queued a pending write per message per stream with no limit, so a stream nobody read grew the
 * heap without bound (W1: +128 MB per 200k messages), and closing dropped whatever was queued (W2).
 * Here:
 * - at most `limit` items wait unread; one more ends the stream with a `BufferOverflowError` (after
 *   the items it holds are read) and it takes nothing more;
 * - `end()` and `fail()` take effect after everything already pushed has been read, so nothing
 *   received is lost to a close, and an error is distinguishable from a normal end (W15);
 * - a reader cancelling the stream detaches it (`onCancel`).
 */
import { BufferOverflowError } from '../errors.js';

export const DEFAULT_MAX_BUFFERED = 10_000;

type State = 'open' | 'ending' | 'done';

export class BoundedStream<T> {
  readonly readable: ReadableStream<T>;
  private items: T[] = [];
  private head = 0;
  private state: State = 'open';
  private failure: unknown;
  private controller!: ReadableStreamDefaultController<T>;
  /** Set while a read is waiting for an item. */
  private waiting = false;
  private started = false;

  constructor(
    private readonly limit: number,
    private readonly what: string,
    private readonly hooks: { onCancel?: () => void; onFirstPull?: () => void } = {},
  ) {
    // highWaterMark 0: items move to the stream only when a read asks for one, so our queue (which
    // we can bound and drain on close) is the only buffer.
    this.readable = new ReadableStream<T>(
      {
        start: (c) => {
          this.controller = c;
        },
        pull: () => this.pull(),
        cancel: () => {
          this.state = 'done';
          this.items = [];
          this.head = 0;
          this.hooks.onCancel?.();
        },
      },
      { highWaterMark: 0 },
    );
  }

  /** Items pushed but not yet read. */
  get size(): number {
    return this.items.length - this.head;
  }

  /** Whether the stream still accepts items. */
  get accepting(): boolean {
    return this.state === 'open';
  }

  /** Adds an item; returns false if the stream no longer accepts any (ended, failed, overflowed). */
  push(item: T): boolean {
    if (this.state !== 'open') return false;
    if (this.waiting) {
      this.waiting = false;
      this.controller.enqueue(item);
      return true;
    }
    if (this.size >= this.limit) {
      this.fail(new BufferOverflowError(this.limit, this.what));
      return false;
    }
    this.items.push(item);
    return true;
  }

  /** Ends the stream normally once what it holds has been read. */
  end(): void {
    if (this.state !== 'open') return;
    this.state = 'ending';
    this.settleIfDrained();
  }

  /** Errors the stream with `error` once what it holds has been read. */
  fail(error: unknown): void {
    if (this.state !== 'open') return;
    this.state = 'ending';
    this.failure = error ?? new Error('stream failed');
    this.settleIfDrained();
  }

  private pull(): void {
    if (!this.started) {
      this.started = true;
      this.hooks.onFirstPull?.();
    }
    if (this.size > 0) {
      const item = this.items[this.head] as T;
      this.items[this.head] = undefined as T;
      this.head++;
      // Compact now and then, so a long-lived queue does not keep a long dead prefix.
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
      this.controller.enqueue(item);
      this.settleIfDrained();
      return;
    }
    if (this.state === 'ending') {
      this.settleIfDrained();
      return;
    }
    if (this.state === 'open') this.waiting = true;
  }

  private settleIfDrained(): void {
    if (this.state !== 'ending' || this.size > 0) return;
    this.state = 'done';
    this.waiting = false;
    if (this.failure !== undefined) this.controller.error(this.failure);
    else this.controller.close();
  }
}
