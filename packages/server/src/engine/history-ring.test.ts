import { describe, expect, it } from 'vitest';
import type { Publication } from './engine.js';
import { HistoryRing } from './history-ring.js';

const pub = (seq: number): Publication => ({
  channelKey: 'c',
  topic: 't',
  kind: 'data',
  epoch: 'e',
  seq,
  json: '',
});

describe('HistoryRing', () => {
  it('keeps the newest items up to its capacity, oldest first', () => {
    const r = new HistoryRing(3);
    for (let s = 1; s <= 5; s++) r.push(pub(s), s);
    expect(r.length).toBe(3);
    expect(r.since(0, 10).map((p) => p.seq)).toEqual([3, 4, 5]);
    expect(r.since(3, 10).map((p) => p.seq)).toEqual([4, 5]);
    expect(r.since(4, 1).map((p) => p.seq)).toEqual([5]);
    expect(r.oldest()?.seq).toBe(3);
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
    expect(r.oldest()).toBeUndefined();
  });

  it('keeps nothing with capacity 0', () => {
    const r = new HistoryRing(0);
    r.push(pub(1), 1);
    expect(r.length).toBe(0);
  });
});
