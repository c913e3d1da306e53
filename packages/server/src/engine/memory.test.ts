import { describe, expect, it } from 'vitest';
import { encodeBody } from '../protocol/message.js';
import { channelKey } from '../protocol/topic.js';
import { engineSuite } from './engine.suite.js';
import { MemoryEngine } from './memory.js';

engineSuite(
  'memory',
  async (o) =>
    new MemoryEngine({
      historySize: o.historySize ?? 1000,
      historyTtlMs: o.historyTtlMs ?? 60_000,
      idempotencyWindowMs: o.idempotencyWindowMs ?? 60_000,
    }),
);

describe('memory engine: bounded memory', () => {
  const body = (ch: string) =>
    encodeBody({ kind: 'data', env: 'e', channel: ch, topic: 't', dataJson: '1', createdAt: '' });

  it('forgets idle channels once their history expired, and starts a new epoch', async () => {
    const engine = new MemoryEngine({ historySize: 10, historyTtlMs: 1000, idempotencyWindowMs: 1000 });
    await engine.start({ onPublication() {}, onRaw() {} });
    const key = channelKey('e', 'idle');
    const first = await engine.publish({ channelKey: key, topic: 't', kind: 'data', body: body('idle') });
    expect(engine.channelCount).toBe(1);
    engine.sweep(Date.now() + 2000);
    expect(engine.channelCount).toBe(0);
    const next = await engine.publish({ channelKey: key, topic: 't', kind: 'data', body: body('idle') });
    expect(next.seq).toBe(1);
    expect(next.epoch).not.toBe(first.epoch);
    await engine.close();
  });

  it('never forgets a channel that has subscribers', async () => {
    const engine = new MemoryEngine({ historySize: 10, historyTtlMs: 1000, idempotencyWindowMs: 1000 });
    await engine.start({ onPublication() {}, onRaw() {} });
    const key = channelKey('e', 'watched');
    await engine.subscribe(key);
    const first = await engine.publish({ channelKey: key, topic: 't', kind: 'data', body: body('watched') });
    engine.sweep(Date.now() + 2000);
    expect(engine.channelCount).toBe(1);
    const next = await engine.publish({ channelKey: key, topic: 't', kind: 'data', body: body('watched') });
    expect(next).toMatchObject({ epoch: first.epoch, seq: 2 });
    await engine.close();
  });
});
