/**
 * Coalesces writes: messages queued for a connection during one turn of the event loop go out in
 * one write (one syscall) on the next, instead of one write per message. A fan-out of N messages
 * to M connections costs M writes, not N × M.
 *
 * Subscribers of the same topic usually have the very same frames queued, so the joined batch is
 * built once and the same Buffer written to each of them (`join`).
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

  /** The last batch joined in this run, and its joined bytes. */
  private lastParts: Buffer[] | undefined;
  private lastJoined: Buffer | undefined;

  /** One Buffer holding `parts` in order; reused when the previous caller had the same parts. */
  join(parts: Buffer[], bytes: number): Buffer {
    if (parts.length === 1) return parts[0] as Buffer;
    const last = this.lastParts;
    if (last !== undefined && last.length === parts.length) {
      let same = true;
      for (let i = 0; i < parts.length; i++) {
        if (last[i] !== parts[i]) {
          same = false;
          break;
        }
      }
      if (same) return this.lastJoined as Buffer;
    }
    const joined = Buffer.concat(parts, bytes);
    this.lastParts = parts;
    this.lastJoined = joined;
    return joined;
  }

  private readonly run = (): void => {
    this.scheduled = false;
    const batch = this.dirty;
    this.dirty = [];
    for (const c of batch) c.flush();
    this.lastParts = undefined;
    this.lastJoined = undefined;
  };
}
