import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { type Flushable, RUN_BUDGET_MS, WriteScheduler } from './write-scheduler.js';

/** A connection stand-in that records when it was flushed; `cost` busy-waits that many ms. */
function conn(log: number[], id: number, cost = 0): Flushable {
  return {
    flush() {
      const until = performance.now() + cost;
      while (performance.now() < until) {}
      log.push(id);
    },
  };
}

describe('WriteScheduler', () => {
  it('flushes every marked connection once, in the order marked, on the next turn', async () => {
    const s = new WriteScheduler(); // not started: always batches per turn
    const log: number[] = [];
    for (let i = 0; i < 5; i++) s.mark(conn(log, i));
    expect(log).toEqual([]);
    await nextTurn();
    expect(log).toEqual([0, 1, 2, 3, 4]);
  });

  it('flushes connections marked during a run in that run', async () => {
    const s = new WriteScheduler();
    const log: number[] = [];
    s.mark({
      flush() {
        log.push(0);
        s.mark(conn(log, 1));
      },
    });
    await nextTurn();
    expect(log).toEqual([0, 1]);
  });

  it('yields to the next turn once a run has written for its budget, and loses nothing', async () => {
    const s = new WriteScheduler();
    const log: number[] = [];
    // 200 connections of 0.5 ms each: 100 ms of writing, far over one run's budget.
    for (let i = 0; i < 200; i++) s.mark(conn(log, i, 0.5));
    await nextTurn();
    const first = log.length;
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(200);
    // Each run stops at the first clock check past the budget (checked every 64 connections).
    expect(first).toBeLessThanOrEqual(64 * Math.ceil(RUN_BUDGET_MS / (64 * 0.5)));
    s.mark(conn(log, 200)); // marked while the rest waits: goes out after it
    for (let turn = 0; turn < 20 && log.length < 201; turn++) await nextTurn();
    expect(log).toEqual(Array.from({ length: 201 }, (_, i) => i));
  });
});
