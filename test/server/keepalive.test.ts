/**
 * WebSocket keepalive (§3.4, F7): protocol pings every `--ping-interval`; a peer that does not pong
 * within `--pong-timeout` is closed with 4009 and counted, instead of silently disabling keepalive.
 * The pong timeout is generous (2 s) so a peer that does pong is never late on a loaded machine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameCollector, mintToken, publish } from '../support/client.js';
import { type HeraldProcess, startHerald } from '../support/herald.js';
import { eventually, frameWhere, healthReaches, metric, stopClean } from './helpers.js';

let herald: HeraldProcess;
beforeAll(async () => {
  herald = await startHerald({ args: ['--ping-interval', '150ms', '--pong-timeout', '2s'] });
});
afterAll(async () => {
  await stopClean(herald);
});

describe('keepalive', () => {
  it('pings a WebSocket every --ping-interval and keeps a peer that pongs', async () => {
    const c = await FrameCollector.connect(herald.wsUrl, await mintToken(herald.url, 'k', ['t']));
    let pings = 0;
    c.ws.on('ping', () => {
      pings++;
    });
    await eventually(() => pings >= 4, 'four pings');
    expect(c.closeCode).toBeUndefined();
    await publish(herald.url, 'k', 't', '"alive"');
    await frameWhere(c, (f) => f.data === 'alive');
    c.close();
  });

  it('closes a WebSocket that never pongs with 4009 and counts it (F7)', async () => {
    const before = await metric(herald.url, 'herald_pong_timeouts_total');
    const c = await FrameCollector.connect(herald.wsUrl, await mintToken(herald.url, 'k', ['t']), {
      autoPong: false,
    });
    const code = await c.closed();
    expect(code).toBe(4009);
    expect(c.closeReason).toBe('no pong within the timeout');
    expect(await metric(herald.url, 'herald_pong_timeouts_total')).toBe(before + 1);
    await healthReaches(herald.url, { connections: 0 });
  });

  it("answers a client's ping with a pong", async () => {
    const c = await FrameCollector.connect(herald.wsUrl, await mintToken(herald.url, 'k', ['t']));
    const pong = new Promise<string>((resolve) => c.ws.once('pong', (data) => resolve(data.toString())));
    c.ws.ping('are you there');
    expect(await pong).toBe('are you there');
    c.close();
  });
});
