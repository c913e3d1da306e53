/**
 * The engine contract as tests. Every engine implementation runs this same suite
 * (memory.test.ts, redis.test.ts), so they cannot drift apart.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeBody } from '../protocol/message.js';
import { channelKey } from '../protocol/topic.js';
import type { Draft, Engine, EngineSink, Publication } from './engine.js';

export interface EngineFactoryOptions {
  historySize?: number;
  historyTtlMs?: number;
  idempotencyWindowMs?: number;
}

export type EngineFactory = (o: EngineFactoryOptions) => Promise<Engine>;

class Recorder implements EngineSink {
  readonly pubs: Publication[] = [];
  readonly raw: { channelKey: string; topic: string; text: string }[] = [];
  onPublication(pub: Publication): void {
    this.pubs.push(pub);
  }
  onRaw(channelKey: string, topic: string, text: string): void {
    this.raw.push({ channelKey, topic, text });
  }
  async waitFor(n: number): Promise<void> {
    for (let i = 0; i < 500 && this.pubs.length < n; i++) await new Promise((r) => setTimeout(r, 10));
    if (this.pubs.length < n) throw new Error(`expected ${n} publications, got ${this.pubs.length}`);
  }
}

let n = 0;
/** A channel name unique to this test run, so engines with shared state (Redis) start clean. */
function freshChannel(): string {
  return channelKey('env-test', `ch-${process.pid}-${Date.now()}-${n++}`);
}

function draft(key: string, topic: string, data: unknown): Draft {
  return {
    channelKey: key,
    topic,
    kind: 'data',
    body: encodeBody({
      kind: 'data',
      env: 'env-test',
      channel: key.split('\u0000')[1] as string,
      topic,
      dataJson: JSON.stringify(data),
      createdAt: new Date(0).toISOString(),
    }),
  };
}

export function engineSuite(name: string, create: EngineFactory): void {
  describe(`engine contract: ${name}`, () => {
    let engine: Engine;
    let sink: Recorder;
    const open: Engine[] = [];

    async function make(o: EngineFactoryOptions = {}): Promise<{ engine: Engine; sink: Recorder }> {
      const e = await create(o);
      const s = new Recorder();
      await e.start(s);
      open.push(e);
      return { engine: e, sink: s };
    }

    beforeEach(async () => {
      ({ engine, sink } = await make());
    });
    afterEach(async () => {
      await Promise.all(open.splice(0).map((e) => e.close()));
    });

    it('assigns consecutive seqs from 1 across all topics of a channel, one epoch', async () => {
      const ch = freshChannel();
      const acks = [];
      for (let i = 0; i < 6; i++)
        acks.push(await engine.publish(draft(ch, ['a', 'b', 'c'][i % 3] as string, i)));
      expect(acks.map((a) => a.seq)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(new Set(acks.map((a) => a.epoch)).size).toBe(1);
      expect(new Set(acks.map((a) => a.id)).size).toBe(6);
    });

    it('keeps separate sequences per channel', async () => {
      const a = freshChannel();
      const b = freshChannel();
      expect((await engine.publish(draft(a, 't', 1))).seq).toBe(1);
      expect((await engine.publish(draft(b, 't', 1))).seq).toBe(1);
      expect((await engine.publish(draft(a, 't', 2))).seq).toBe(2);
    });

    it('delivers publications of subscribed channels only, in order, with the position in the frame', async () => {
      const ch = freshChannel();
      const other = freshChannel();
      await engine.subscribe(ch);
      await engine.publish(draft(other, 't', 'x'));
      for (let i = 0; i < 50; i++) await engine.publish(draft(ch, i % 2 ? 'a' : 'b', i));
      await sink.waitFor(50);
      expect(sink.pubs.every((p) => p.channelKey === ch)).toBe(true);
      expect(sink.pubs.map((p) => p.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      const frame = JSON.parse(sink.pubs[3]?.json as string);
      expect(frame).toMatchObject({ kind: 'data', data: 3, topic: 'a', seq: 4, epoch: sink.pubs[3]?.epoch });
    });

    it('stops delivering after unsubscribe', async () => {
      const ch = freshChannel();
      await engine.subscribe(ch);
      await engine.publish(draft(ch, 't', 1));
      await sink.waitFor(1);
      await engine.unsubscribe(ch);
      await engine.publish(draft(ch, 't', 2));
      await new Promise((r) => setTimeout(r, 50));
      expect(sink.pubs).toHaveLength(1);
    });

    it('publishes raw text to subscribed channels without a position', async () => {
      const ch = freshChannel();
      await engine.subscribe(ch);
      await engine.publishRaw(ch, '$stream', 'data: hi\n\n');
      for (let i = 0; i < 200 && sink.raw.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(sink.raw).toEqual([{ channelKey: ch, topic: '$stream', text: 'data: hi\n\n' }]);
      const ack = await engine.publish(draft(ch, 't', 1));
      expect(ack.seq).toBe(1);
    });

    it('answers history after a position, in order, recovered', async () => {
      const ch = freshChannel();
      const acks = [];
      for (let i = 0; i < 10; i++) acks.push(await engine.publish(draft(ch, 't', i)));
      const epoch = acks[0]?.epoch as string;
      const h = await engine.history(ch, { since: { epoch, seq: 4 } });
      expect(h.recovered).toBe(true);
      expect(h.top).toEqual({ epoch, seq: 10 });
      expect(h.publications.map((p) => p.seq)).toEqual([5, 6, 7, 8, 9, 10]);
      expect(JSON.parse(h.publications[0]?.json as string).data).toBe(4);
      const none = await engine.history(ch, { since: { epoch, seq: 10 } });
      expect(none).toMatchObject({ recovered: true, publications: [] });
      const limited = await engine.history(ch, { since: { epoch, seq: 0 }, limit: 3 });
      expect(limited.publications.map((p) => p.seq)).toEqual([1, 2, 3]);
    });

    it('reports the current position without messages when no position is given', async () => {
      const ch = freshChannel();
      const empty = await engine.history(ch, {});
      expect(empty.top.seq).toBe(0);
      await engine.publish(draft(ch, 't', 1));
      const h = await engine.history(ch, {});
      expect(h).toMatchObject({ recovered: true, publications: [], top: { seq: 1 } });
    });

    it('says not recovered when the position fell out of the count window', async () => {
      const small = await make({ historySize: 5 });
      const ch = freshChannel();
      let epoch = '';
      for (let i = 0; i < 12; i++) epoch = (await small.engine.publish(draft(ch, 't', i))).epoch;
      const h = await small.engine.history(ch, { since: { epoch, seq: 3 } });
      expect(h.recovered).toBe(false);
      expect(h.publications.map((p) => p.seq)).toEqual([8, 9, 10, 11, 12]);
      const ok = await small.engine.history(ch, { since: { epoch, seq: 7 } });
      expect(ok.recovered).toBe(true);
      expect(ok.publications.map((p) => p.seq)).toEqual([8, 9, 10, 11, 12]);
    });

    it('says not recovered for another epoch', async () => {
      const ch = freshChannel();
      await engine.publish(draft(ch, 't', 1));
      await engine.publish(draft(ch, 't', 2));
      const h = await engine.history(ch, { since: { epoch: 'some-other-epoch', seq: 1 } });
      expect(h.recovered).toBe(false);
      expect(h.publications.map((p) => p.seq)).toEqual([1, 2]);
    });

    it('serves history from the oldest kept message', async () => {
      const ch = freshChannel();
      for (let i = 0; i < 3; i++) await engine.publish(draft(ch, 't', i));
      const h = await engine.history(ch, { since: 'oldest' });
      expect(h.recovered).toBe(true);
      expect(h.publications.map((p) => p.seq)).toEqual([1, 2, 3]);
    });

    it('ages history out', async () => {
      const short = await make({ historyTtlMs: 100 });
      const ch = freshChannel();
      const { epoch } = await short.engine.publish(draft(ch, 't', 1));
      await new Promise((r) => setTimeout(r, 250));
      const h = await short.engine.history(ch, { since: { epoch, seq: 0 } });
      expect(h.publications).toEqual([]);
      expect(h.recovered).toBe(false);
    });

    it('answers a retried idempotency key with the first ack and publishes once', async () => {
      const ch = freshChannel();
      await engine.subscribe(ch);
      const first = await engine.publish(draft(ch, 't', 1), { idempotencyKey: 'k1' });
      const again = await engine.publish(draft(ch, 't', 1), { idempotencyKey: 'k1' });
      const other = await engine.publish(draft(ch, 't', 2), { idempotencyKey: 'k2' });
      expect(first.duplicate).toBe(false);
      expect(again).toEqual({ ...first, duplicate: true });
      expect(other.seq).toBe(first.seq + 1);
      await sink.waitFor(2);
      await new Promise((r) => setTimeout(r, 50));
      expect(sink.pubs.map((p) => p.seq)).toEqual([1, 2]);
    });

    it('forgets idempotency keys after the window', async () => {
      const quick = await make({ idempotencyWindowMs: 100 });
      const ch = freshChannel();
      const first = await quick.engine.publish(draft(ch, 't', 1), { idempotencyKey: 'k' });
      await new Promise((r) => setTimeout(r, 250));
      const later = await quick.engine.publish(draft(ch, 't', 1), { idempotencyKey: 'k' });
      expect(later.duplicate).toBe(false);
      expect(later.seq).toBe(first.seq + 1);
    });

    it('reports health', () => {
      expect(engine.health().ok).toBe(true);
    });
  });
}
