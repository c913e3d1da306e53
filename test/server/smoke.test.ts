import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameCollector, mintToken, publish } from '../support/client.js';
import { type HeraldProcess, startHerald } from '../support/herald.js';

let herald: HeraldProcess;
beforeAll(async () => {
  herald = await startHerald();
});
afterAll(async () => {
  await herald?.stop();
});

describe('publish → WebSocket subscriber', () => {
  it('delivers a data message with its position', async () => {
    const token = await mintToken(herald.url, 'user:123', ['ai']);
    const sub = await FrameCollector.connect(herald.wsUrl, token);
    const res = await publish(herald.url, 'user:123', 'ai', '{"hello":"world"}', {
      query: { run_id: 'run-1' },
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const ack = (await res.json()) as { seq: number; epoch: string; id: string };
    const [frame] = await sub.waitFor(1);
    expect(frame).toMatchObject({
      kind: 'data',
      data: { hello: 'world' },
      channel: 'user:123',
      topic: 'ai',
      run_id: 'run-1',
      env_id: '00000000-0000-4000-b000-000000000000',
      seq: ack.seq,
      epoch: ack.epoch,
    });
    expect(typeof frame?.created_at).toBe('string');
    sub.close();
  });
});
