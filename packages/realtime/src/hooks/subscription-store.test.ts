/**
 * The hook's store on its own: batching, what `freshData` carries until it is shown, buffering,
 * the history cap and reset. Rendering is stood in for by reading snapshots and reporting them shown.
 */
import { describe, expect, it } from 'vitest';
import { InngestSubscriptionState as State } from './state.js';
import { SubscriptionStore } from './subscription-store.js';

/** Lets the store's once-per-task notification run. */
const nextTask = () => new Promise((r) => setTimeout(r, 0));

function storeWithListener() {
  const store = new SubscriptionStore<string>();
  let notified = 0;
  store.subscribe(() => notified++);
  return { store, notified: () => notified };
}

describe('SubscriptionStore', () => {
  it('tells React once per task, however many messages arrived in it', async () => {
    const { store, notified } = storeWithListener();
    for (const m of ['a', 'b', 'c']) store.push(m);
    await nextTask();
    expect(notified()).toBe(1);
    const s = store.getSnapshot();
    expect(s.data).toEqual(['a', 'b', 'c']);
    expect(s.freshData).toEqual(['a', 'b', 'c']);
    expect(s.latestData).toBe('c');
    expect(store.getSnapshot()).toBe(s);
  });

  it('keeps messages of a snapshot that was never shown in the next freshData', () => {
    const store = new SubscriptionStore<string>();
    store.push('a');
    const first = store.getSnapshot();
    store.push('b');
    // `first` never reached the screen (React rendered only the newer one).
    const second = store.getSnapshot();
    expect(second.freshData).toEqual(['a', 'b']);
    store.rendered(second.version);
    store.push('c');
    const third = store.getSnapshot();
    expect(third.freshData).toEqual(['c']);
    expect(third.data).toEqual(['a', 'b', 'c']);
    // Earlier snapshots are never changed afterwards.
    expect(first.data).toEqual(['a']);
    expect(second.data).toEqual(['a', 'b']);
  });

  it('changes freshData only when messages arrive', () => {
    const store = new SubscriptionStore<string>();
    const owner = {};
    store.claim(owner);
    store.push('a');
    const s1 = store.getSnapshot();
    store.rendered(s1.version);
    store.setStatus(owner, { state: State.Active });
    const s2 = store.getSnapshot();
    expect(s2.state).toBe(State.Active);
    expect(s2.freshData).toBe(s1.freshData);
    expect(s2.data).toBe(s1.data);
  });

  it('ignores the status of a connection that is no longer the current one', () => {
    const store = new SubscriptionStore<string>();
    const [old, current] = [{}, {}];
    store.claim(old);
    store.claim(current);
    store.setStatus(old, { state: State.Closed, error: new Error('old') });
    store.setStatus(current, { state: State.Active });
    expect(store.getSnapshot().state).toBe(State.Active);
    expect(store.getSnapshot().error).toBeNull();
  });

  it('holds messages until released, then shows them as one batch; stopping holding releases them', () => {
    const store = new SubscriptionStore<string>();
    store.hold(true);
    store.push('a');
    store.push('b');
    expect(store.getSnapshot().data).toEqual([]);
    store.release();
    expect(store.getSnapshot().freshData).toEqual(['a', 'b']);
    store.rendered(store.getSnapshot().version);
    store.push('c');
    expect(store.getSnapshot().data).toEqual(['a', 'b']);
    store.hold(false);
    expect(store.getSnapshot().freshData).toEqual(['c']);
    store.push('d');
    expect(store.getSnapshot().data).toEqual(['a', 'b', 'c', 'd']);
  });

  it('caps data at historyLimit (0 keeps none), including when the limit is lowered', () => {
    const store = new SubscriptionStore<number>();
    for (let i = 0; i < 5; i++) store.push(i);
    expect(store.getSnapshot().data).toEqual([0, 1, 2, 3, 4]);
    store.setHistoryLimit(2);
    expect(store.getSnapshot().data).toEqual([3, 4]);
    store.push(5);
    expect(store.getSnapshot().data).toEqual([4, 5]);
    store.setHistoryLimit(0);
    store.push(6);
    const s = store.getSnapshot();
    expect(s.data).toEqual([]);
    expect(s.latestData).toBe(6);
  });

  it('reset() empties everything, held messages included', () => {
    const store = new SubscriptionStore<string>();
    store.push('a');
    store.getSnapshot();
    store.hold(true);
    store.push('b');
    store.reset();
    store.hold(false);
    const s = store.getSnapshot();
    expect(s.data).toEqual([]);
    expect(s.latestData).toBeNull();
    expect(s.freshData).toEqual([]);
  });
});
