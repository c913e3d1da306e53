/**
 * Ordering: one channel has one order across all its topics. 10,000 messages over 3 topics,
 * published by several concurrent publishers (each sequential), reach a subscriber of all three in
 * publish order — the order of the sequence numbers the acknowledgements carry — with consecutive
 * seq and one epoch; a subscriber of one topic sees that topic's subsequence in the same order.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameCollector, mintToken } from '../support/client.js';
import { type HeraldProcess, startHerald } from '../support/herald.js';
import { publishUrl, stopClean } from './helpers.js';

const TOTAL = 10_000;
const PUBLISHERS = 4;
const TOPICS = ['alpha', 'beta', 'gamma'];

let herald: HeraldProcess;
beforeAll(async () => {
  herald = await startHerald();
});
afterAll(async () => {
  agent.destroy();
  await stopClean(herald);
});

interface Ack {
  seq: number;
  epoch: string;
  topic: string;
}

/** One publisher per keep-alive connection: node:http is much lighter than fetch for 10k requests. */
const agent = new http.Agent({ keepAlive: true, maxSockets: PUBLISHERS });
function post(url: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { 'Content-Type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('ordering', () => {
  it('delivers 10,000 messages across 3 topics in publish order with consecutive seq', async () => {
    const channel = `order-${Date.now()}`;
    const all = await FrameCollector.connect(herald.wsUrl, await mintToken(herald.url, channel, TOPICS));
    const onlyBeta = await FrameCollector.connect(
      herald.wsUrl,
      await mintToken(herald.url, channel, ['beta']),
    );

    // seq → what was published with it, from the acknowledgements.
    const published = new Map<number, { topic: string; body: { p: number; k: number } }>();
    const epochs = new Set<string>();
    let next = 0;
    await Promise.all(
      Array.from({ length: PUBLISHERS }, async (_, p) => {
        let lastSeq = 0;
        for (let k = 0; ; k++) {
          const i = next++;
          if (i >= TOTAL) break;
          const topic = TOPICS[i % TOPICS.length] as string;
          const body = { p, k };
          const res = await post(publishUrl(herald.url, { channel, topic }), JSON.stringify(body));
          if (res.status !== 200) throw new Error(`publish ${i}: ${res.status} ${res.text}`);
          const ack = JSON.parse(res.text) as Ack;
          // Each publisher is sequential, so its own messages are ordered.
          if (ack.seq <= lastSeq) throw new Error(`publisher ${p}: seq ${ack.seq} after ${lastSeq}`);
          lastSeq = ack.seq;
          epochs.add(ack.epoch);
          published.set(ack.seq, { topic, body });
        }
      }),
    );
    expect(published.size).toBe(TOTAL);
    expect(epochs.size).toBe(1);
    const seqs = [...published.keys()].sort((a, b) => a - b);
    expect(seqs[0]).toBe(1);
    expect(seqs[TOTAL - 1]).toBe(TOTAL);

    const frames = await all.waitFor(TOTAL, 60_000);
    expect(frames).toHaveLength(TOTAL);
    const [epoch] = epochs;
    const mismatches: string[] = [];
    frames.forEach((f, i) => {
      const want = published.get(i + 1);
      if (
        f.seq !== i + 1 ||
        f.epoch !== epoch ||
        f.topic !== want?.topic ||
        JSON.stringify(f.data) !== JSON.stringify(want?.body)
      )
        mismatches.push(`frame ${i}: ${JSON.stringify(f)} (expected seq ${i + 1}: ${JSON.stringify(want)})`);
    });
    expect(mismatches.slice(0, 5)).toEqual([]);

    const betaSeqs = seqs.filter((s) => published.get(s)?.topic === 'beta');
    const beta = await onlyBeta.waitFor(betaSeqs.length, 60_000);
    expect(beta.map((f) => f.seq)).toEqual(betaSeqs);
    all.close();
    onlyBeta.close();
  }, 120_000);
});
