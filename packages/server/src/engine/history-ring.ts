/**
 * A channel's history in memory: the newest `capacity` publications, oldest first, each with the
 * time it was accepted. A circular buffer that grows on demand (doubling) up to its capacity, then
 * overwrites the oldest. Dropping expired items only moves the head: when the age limit is what
 * binds (the usual case), every publish expires about one item, and that must cost O(1), not a copy
 * of the whole history.
 *
 * History holds every message for minutes, so it is what the garbage collector walks most: it keeps
 * each message's fields in parallel arrays (its JSON text is the only object per message) rather
 * than the publication object. Publications are rebuilt when read (replays, bounded), so the one
 * made at publish dies young, after its fan-out. Channel key and epoch are the same for every item
 * of a channel's ring and are kept once.
 */
import type { Publication } from './engine.js';

const INITIAL_SLOTS = 8;

export class HistoryRing {
  private jsons: (string | undefined)[] = [];
  private topics: (string | undefined)[] = [];
  private kinds: (Publication['kind'] | undefined)[] = [];
  private seqs: number[] = [];
  private times: number[] = [];
  private channelKey = '';
  private epoch = '';
  /** Slot of the oldest item. */
  private head = 0;
  private count = 0;

  constructor(private readonly capacity: number) {}

  get length(): number {
    return this.count;
  }

  push(pub: Publication, at: number): void {
    if (this.capacity === 0) return;
    this.channelKey = pub.channelKey;
    this.epoch = pub.epoch;
    if (this.count === this.jsons.length && this.count < this.capacity) this.grow();
    let slot: number;
    if (this.count === this.capacity) {
      // Full: overwrite the oldest.
      slot = this.head;
      this.head = (this.head + 1) % this.jsons.length;
    } else {
      slot = (this.head + this.count) % this.jsons.length;
      this.count++;
    }
    this.jsons[slot] = pub.json;
    this.topics[slot] = pub.topic;
    this.kinds[slot] = pub.kind;
    this.seqs[slot] = pub.seq;
    this.times[slot] = at;
  }

  /** The i-th oldest item (0 = oldest), as a new publication. */
  at(i: number): Publication {
    const slot = (this.head + i) % this.jsons.length;
    return {
      channelKey: this.channelKey,
      topic: this.topics[slot] as string,
      kind: this.kinds[slot] as Publication['kind'],
      epoch: this.epoch,
      seq: this.seqs[slot] as number,
      json: this.jsons[slot] as string,
    };
  }

  /** Seq of the oldest item. */
  oldestSeq(): number | undefined {
    return this.count === 0 ? undefined : this.seqs[this.head];
  }

  /** Drops items accepted before `cutoff` (ms since epoch). */
  dropOlderThan(cutoff: number): void {
    const slots = this.jsons.length;
    while (this.count > 0 && (this.times[this.head] as number) < cutoff) {
      // Let the text be collected; the topic and kind are shared strings.
      this.jsons[this.head] = undefined;
      this.head = (this.head + 1) % slots;
      this.count--;
    }
    if (this.count === 0) this.clear();
  }

  clear(): void {
    this.jsons = [];
    this.topics = [];
    this.kinds = [];
    this.seqs = [];
    this.times = [];
    this.head = 0;
    this.count = 0;
  }

  /** Items with seq > `after`, oldest first, at most `limit`. */
  since(after: number, limit: number): Publication[] {
    const out: Publication[] = [];
    if (this.count === 0) return out;
    // Seqs are consecutive within the ring, so the start index is computed, not searched.
    const first = this.seqs[this.head] as number;
    let i = Math.max(0, after + 1 - first);
    for (; i < this.count && out.length < limit; i++) out.push(this.at(i));
    return out;
  }

  /** Re-lays the items out oldest first in larger arrays (only when every slot is taken). */
  private grow(): void {
    const size = Math.min(this.capacity, Math.max(INITIAL_SLOTS, this.jsons.length * 2));
    const old = this.jsons.length;
    const relay = <T>(from: T[]): T[] => {
      const to = new Array<T>(size);
      for (let i = 0; i < this.count; i++) to[i] = from[(this.head + i) % old] as T;
      return to;
    };
    this.jsons = relay(this.jsons);
    this.topics = relay(this.topics);
    this.kinds = relay(this.kinds);
    this.seqs = relay(this.seqs);
    this.times = relay(this.times);
    this.head = 0;
  }
}
