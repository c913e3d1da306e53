/**
 * Coalesces writes: messages queued for a connection during one turn of the event loop go out in
 * one write (one syscall) on the next, instead of one write per message. A fan-out of N messages
 * to M connections costs M writes, not N × M.
 */
export interface Flushable {
  flush(): void;
}

export class WriteScheduler {
  private dirty: Flushable[] = [];
  private scheduled = false;

  mark(c: Flushable): void {
    this.dirty.push(c);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.run);
    }
  }

  private readonly run = (): void => {
    this.scheduled = false;
    const batch = this.dirty;
    this.dirty = [];
    for (const c of batch) c.flush();
  };
}
