/**
 * A channel's history in memory: the newest `capacity` publications, oldest first, each with the
 * time it was accepted. A circular buffer that grows on demand (doubling) up to its capacity, then
 * overwrites the oldest. Dropping expired items only moves the head: when the age limit is what
 * binds (the usual case), every publish expires about one item, and that must cost O(1), not a copy
 * of the whole history.
 */
import type { Publication } from './engine.js';

const INITIAL_SLOTS = 8;

export class HistoryRing {
  private items: (Publication | undefined)[] = [];
  private times: number[] = [];
  /** Slot of the oldest item. */
  private head = 0;
  private count = 0;

  constructor(private readonly capacity: number) {}

  get length(): number {
    return this.count;
  }

  push(pub: Publication, at: number): void {
    if (this.capacity === 0) return;
    if (this.count === this.items.length && this.count < this.capacity) this.grow();
    if (this.count === this.capacity) {
      // Full: overwrite the oldest.
      this.items[this.head] = pub;
      this.times[this.head] = at;
      this.head = (this.head + 1) % this.items.length;
      return;
    }
    const slot = (this.head + this.count) % this.items.length;
    this.items[slot] = pub;
    this.times[slot] = at;
    this.count++;
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
    const slots = this.items.length;
    while (this.count > 0 && (this.times[this.head] as number) < cutoff) {
      this.items[this.head] = undefined; // let it be collected
      this.head = (this.head + 1) % slots;
      this.count--;
    }
    if (this.count === 0) this.clear();
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

  /** Re-lays the items out oldest first in a larger buffer (only when every slot is taken). */
  private grow(): void {
    const size = Math.min(this.capacity, Math.max(INITIAL_SLOTS, this.items.length * 2));
    const items = new Array<Publication | undefined>(size);
    const times = new Array<number>(size);
    for (let i = 0; i < this.count; i++) {
      const j = (this.head + i) % this.items.length;
      items[i] = this.items[j];
      times[i] = this.times[j] as number;
    }
    this.items = items;
    this.times = times;
    this.head = 0;
  }
}
