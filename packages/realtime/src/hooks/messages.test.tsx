/**
 * What the hook shows of the messages it receives, against a real Herald: every message of a burst
 * in `data` and, exactly once, in `freshData` (0.4.7 showed 33 of 1,000 in `freshData`, W19);
 * batches with `bufferInterval`, none left behind when it changes (W20); `historyLimit`; `reset()`.
 */
import { act, render } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { Probe, recorder } from '../../test/hook-probe.js';
import { connectionsReach, publishBurst, publishSequence } from '../../test/hooks.js';
import { mintToken, uniqueChannel, withHerald } from '../../test/support.js';
import { InngestSubscriptionState as State } from './state.js';

const herald = withHerald();

async function tokenFor(channel: string) {
  return { channel, topics: ['t'], key: await mintToken(herald.current.url, channel, ['t']) };
}

const ids = (messages: unknown[]) => messages.map((m) => (m as { data: { i: number } }).data.i);
const range = (n: number, from = 0) => Array.from({ length: n }, (_, k) => from + k);

describe('a burst of 1,000 messages', () => {
  it('ends with all 1,000 in data, and each of them in exactly one freshData that was shown', async () => {
    const rec = recorder();
    const token = await tokenFor(uniqueChannel());
    const view = render(<Probe rec={rec} opts={{ token, apiBaseUrl: herald.current.url }} />);
    await rec.until((r) => r.state === State.Active, 'active');
    await publishBurst(herald.current.url, token.channel, 't', 1000);
    await rec.until((r) => r.data.length === 1000, 'all 1,000 messages');

    const data = ids(rec.last().data);
    expect(new Set(data).size).toBe(1000);
    expect([...data].sort((x, y) => x - y)).toEqual(range(1000));
    // Every render's freshData together hold every message…
    const everySeen = new Set(rec.renders.flatMap((r) => ids(r.freshData)));
    expect(everySeen.size).toBe(1000);
    // …and the ones that reached the screen hold each exactly once, in arrival order.
    expect(rec.committedFresh.flatMap(ids)).toEqual(data);
    // Bursts render in batches, not once per message.
    expect(rec.committedFresh.length).toBeLessThan(1000);
    expect(rec.last().latestData).toBe(rec.last().data[999]);
    view.unmount();
    await connectionsReach(herald.current.url, 0);
  });

  it('with bufferInterval, arrives in batches and completely', async () => {
    const rec = recorder();
    const token = await tokenFor(uniqueChannel());
    const view = render(
      <Probe rec={rec} opts={{ token, apiBaseUrl: herald.current.url, bufferInterval: 50 }} />,
    );
    await rec.until((r) => r.state === State.Active, 'active');
    await publishBurst(herald.current.url, token.channel, 't', 1000);
    await rec.until((r) => r.data.length === 1000, 'all 1,000 messages');
    expect(rec.committedFresh.flatMap(ids)).toEqual(ids(rec.last().data));
    expect(new Set(ids(rec.last().data)).size).toBe(1000);
    view.unmount();
  });
});

describe('bufferInterval', () => {
  it('shows what it held as soon as the interval changes, not an interval later', async () => {
    const held = recorder();
    const witness = recorder();
    const token = await tokenFor(uniqueChannel());
    const url = herald.current.url;
    const hour = 3_600_000;
    const view = render(
      <>
        <Probe rec={held} opts={{ token, apiBaseUrl: url, bufferInterval: hour }} />
        <Probe rec={witness} opts={{ token, apiBaseUrl: url }} />
      </>,
    );
    await held.until((r) => r.state === State.Active, 'active');
    await witness.until((r) => r.state === State.Active, 'active');
    await publishSequence(url, token.channel, 't', 3);
    await witness.until((r) => r.data.length === 3, 'the witness to see 3 messages');
    // Both connections received them; the buffered one holds them for the hour.
    expect(held.last().data).toEqual([]);
    view.rerender(
      <>
        <Probe rec={held} opts={{ token, apiBaseUrl: url, bufferInterval: 0 }} />
        <Probe rec={witness} opts={{ token, apiBaseUrl: url }} />
      </>,
    );
    await held.until((r) => r.data.length === 3, 'the held messages');
    expect(ids(held.last().freshData)).toEqual([0, 1, 2]);
    view.unmount();
  });

  it('shows what it held when its connection closes (enabled: false), not an interval later', async () => {
    const held = recorder();
    const witness = recorder();
    const token = await tokenFor(uniqueChannel());
    const url = herald.current.url;
    const hour = 3_600_000;
    const page = (enabled: boolean) => (
      <>
        <Probe rec={held} opts={{ token, apiBaseUrl: url, bufferInterval: hour, enabled }} />
        <Probe rec={witness} opts={{ token, apiBaseUrl: url }} />
      </>
    );
    const view = render(page(true));
    await held.until((r) => r.state === State.Active, 'active');
    await witness.until((r) => r.state === State.Active, 'active');
    await publishSequence(url, token.channel, 't', 3);
    await witness.until((r) => r.data.length === 3, 'the witness to see 3 messages');
    expect(held.last().data).toEqual([]);
    view.rerender(page(false));
    await held.until(
      (r) => r.state === State.Closed && r.data.length === 3,
      'closed, showing the held messages',
    );
    expect(ids(held.last().data)).toEqual([0, 1, 2]);
    view.unmount();
  });
});

describe('history', () => {
  it('historyLimit keeps the newest messages', async () => {
    const rec = recorder();
    const token = await tokenFor(uniqueChannel());
    const view = render(
      <Probe rec={rec} opts={{ token, apiBaseUrl: herald.current.url, historyLimit: 10 }} />,
    );
    await rec.until((r) => r.state === State.Active, 'active');
    await publishSequence(herald.current.url, token.channel, 't', 25);
    await rec.until((r) => ids(r.data).at(-1) === 24, 'the last message');
    expect(ids(rec.last().data)).toEqual(range(10, 15));
    expect(rec.renders.every((r) => r.data.length <= 10)).toBe(true);
    view.unmount();
  });

  it('reset() empties data, latestData and freshData; later messages arrive as usual', async () => {
    const rec = recorder();
    const token = await tokenFor(uniqueChannel());
    const view = render(<Probe rec={rec} opts={{ token, apiBaseUrl: herald.current.url }} />);
    await rec.until((r) => r.state === State.Active, 'active');
    await publishSequence(herald.current.url, token.channel, 't', 3);
    await rec.until((r) => r.data.length === 3, '3 messages');
    const { reset } = rec.last();
    await act(async () => reset());
    await rec.until((r) => r.data.length === 0, 'empty');
    expect(rec.last().latestData).toBeNull();
    expect(rec.last().freshData).toEqual([]);
    expect(rec.last().reset).toBe(reset);
    await publishSequence(herald.current.url, token.channel, 't', 1, 3);
    await rec.until((r) => r.data.length === 1, 'the next message');
    expect(ids(rec.last().data)).toEqual([3]);
    view.unmount();
  });
});

describe('since', () => {
  it("'oldest' shows what the channel still keeps from before the mount, then live messages, once", async () => {
    const rec = recorder();
    const token = await tokenFor(uniqueChannel());
    await publishSequence(herald.current.url, token.channel, 't', 3);
    const view = render(
      <Probe rec={rec} opts={{ token, apiBaseUrl: herald.current.url, since: 'oldest' }} />,
    );
    await rec.until((r) => r.data.length === 3, 'the kept messages');
    await publishSequence(herald.current.url, token.channel, 't', 2, 3);
    await rec.until((r) => r.data.length === 5, 'then live ones');
    expect(ids(rec.last().data)).toEqual(range(5));
    view.unmount();
  });
});
