import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Publication } from './engine.js';
import { HistoryRing } from './history-ring.js';

const pub = (seq: number): Publication => ({
  channelKey: 'c',
  topic: `t${seq % 3}`,
  kind: seq % 2 ? 'data' : 'chunk',
  epoch: 'e',
  seq,
  json: `{"seq":${seq}}`,
});

describe('HistoryRing', () => {
  it('keeps the newest items up to its capacity, oldest first', () => {
    const r = new HistoryRing(3);
    for (let s = 1; s <= 5; s++) r.push(pub(s), s);
    expect(r.length).toBe(3);
    expect(r.since(0, 10).map((p) => p.seq)).toEqual([3, 4, 5]);
    expect(r.since(3, 10).map((p) => p.seq)).toEqual([4, 5]);
    expect(r.since(4, 1).map((p) => p.seq)).toEqual([5]);
    expect(r.oldestSeq()).toBe(3);
  });

  it('gives back every field of what was pushed', () => {
    const r = new HistoryRing(4);
    for (let s = 1; s <= 6; s++) r.push(pub(s), s);
    expect(r.since(0, 10)).toEqual([3, 4, 5, 6].map(pub));
  });

  it('drops items older than a cutoff and keeps growing afterwards', () => {
    const r = new HistoryRing(4);
    for (let s = 1; s <= 6; s++) r.push(pub(s), s * 10);
    r.dropOlderThan(45);
    expect(r.since(0, 10).map((p) => p.seq)).toEqual([5, 6]);
    for (let s = 7; s <= 9; s++) r.push(pub(s), s * 10);
    expect(r.since(0, 10).map((p) => p.seq)).toEqual([6, 7, 8, 9]);
    r.dropOlderThan(1000);
    expect(r.length).toBe(0);
    expect(r.oldestSeq()).toBeUndefined();
  });

  it('keeps nothing with capacity 0', () => {
    const r = new HistoryRing(0);
    r.push(pub(1), 1);
    expect(r.length).toBe(0);
  });
  it('behaves like a plain list under any mix of pushes and expiries (wrapped, grown, emptied)', () => {
    const op = fc.oneof(
      fc.record({ push: fc.integer({ min: 1, max: 40 }) }),
      fc.record({ dropBefore: fc.integer({ min: 0, max: 50 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20 }), fc.array(op, { maxLength: 60 }), (capacity, ops) => {
        const ring = new HistoryRing(capacity);
        let model: { seq: number; at: number }[] = [];
        let seq = 0;
        let clock = 0;
        for (const o of ops) {
          if ('push' in o) {
            for (let n = 0; n < o.push; n++) {
              seq++;
              clock++;
              ring.push(pub(seq), clock);
              if (capacity > 0) model.push({ seq, at: clock });
              if (model.length > capacity) model.shift();
            }
          } else {
            const cutoff = clock - o.dropBefore;
            ring.dropOlderThan(cutoff);
            model = model.filter((m) => m.at >= cutoff);
          }
          expect(ring.length).toBe(model.length);
          expect(ring.oldestSeq()).toBe(model[0]?.seq);
          expect(ring.since(0, 1000).map((p) => p.seq)).toEqual(model.map((m) => m.seq));
          const mid = model[Math.floor(model.length / 2)]?.seq ?? 0;
          expect(ring.since(mid, 3).map((p) => p.seq)).toEqual(
            model
              .filter((m) => m.seq > mid)
              .slice(0, 3)
              .map((m) => m.seq),
          );
        }
      }),
      { numRuns: 300, seed: 42 },
    );
  });
});
