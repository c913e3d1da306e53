/**
 * A channel's history in memory: the newest `capacity` publications, oldest first, each with the
 * time it was accepted. Grows on demand up to its capacity, then overwrites the oldest.
 */
import type { Publication } from './engine.js';

export class HistoryRing {
  private items: Publication[] = [];
  private times: number[] = [];
  /** Index of the oldest item once the ring has wrapped. */
  private head = 0;
  private count = 0;

  constructor(private readonly capacity: number) {}

  get length(): number {
    return this.count;
  }

  push(pub: Publication, at: number): void {
    if (this.capacity === 0) return;
    if (this.count < this.capacity && this.head === 0) {
      this.items.push(pub);
      this.times.push(at);
      this.count++;
      return;
    }
    // Full: overwrite the oldest.
    this.items[this.head] = pub;
    this.times[this.head] = at;
    this.head = (this.head + 1) % this.capacity;
  }

  /** The i-th oldest item (0 = oldest). */
  at(i: number): Publication {
    return this.items[(this.head + i) % this.items.length] as Publication;
  }

  oldest(): Publication | undefined {
    return this.count === 0 ? undefined : this.at(0);
  }

  /** Drops items accepted before `cutoff` (ms since epoch). */
  dropOlderThan(cutoff: number): void {
    let drop = 0;
    while (drop < this.count && (this.times[(this.head + drop) % this.items.length] as number) < cutoff)
      drop++;
    if (drop === 0) return;
    if (drop === this.count) {
      this.clear();
      return;
    }
    // Re-pack the survivors so the ring can grow again from a clean state.
    const keepItems: Publication[] = [];
    const keepTimes: number[] = [];
    for (let i = drop; i < this.count; i++) {
      const j = (this.head + i) % this.items.length;
      keepItems.push(this.items[j] as Publication);
      keepTimes.push(this.times[j] as number);
    }
    this.items = keepItems;
    this.times = keepTimes;
    this.head = 0;
    this.count = keepItems.length;
  }

  clear(): void {
    this.items = [];
    this.times = [];
    this.head = 0;
    this.count = 0;
  }

  /** Items with seq > `after`, oldest first, at most `limit`. */
  since(after: number, limit: number): Publication[] {
    const out: Publication[] = [];
    if (this.count === 0) return out;
    // Seqs are consecutive within the ring, so the start index is computed, not searched.
    const first = this.at(0).seq;
    let i = Math.max(0, after + 1 - first);
    for (; i < this.count && out.length < limit; i++) out.push(this.at(i));
    return out;
  }
}
