/** In-band token refresh and `--enforce-token-expiry`. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameCollector, mintToken, publish } from '../support/client.js';
import { type HeraldProcess, startHerald } from '../support/herald.js';

let herald: HeraldProcess;
beforeAll(async () => {
  herald = await startHerald({
    args: ['--enforce-token-expiry', '--token-ttl', '3', '--ping-interval', '1', '--pong-timeout', '1'],
  });
});
afterAll(async () => {
  await herald?.stop();
});

describe('token expiry on open connections', () => {
  it('warns, then closes with 4001 when no fresh token came', async () => {
    const c = await FrameCollector.connect(herald.wsUrl, await mintToken(herald.url, 'exp-a', ['t']));
    const [warning] = await c.waitFor(1);
    expect(warning).toMatchObject({ kind: 'token-expiring', topic: '' });
    expect(await c.closed(15_000)).toBe(4001);
  });

  it('keeps a connection that presented a fresh token in a sub frame, and answers it', async () => {
    const c = await FrameCollector.connect(herald.wsUrl, await mintToken(herald.url, 'exp-b', ['t']));
    const [warning] = await c.waitFor(1);
    const expiresAt = Date.parse((warning?.data as { expires_at: string } | undefined)?.expires_at ?? '');
    // Tokens expire on whole seconds: mint the fresh one late enough that it outlives the first.
    while (Date.now() < expiresAt - 1000) await new Promise((r) => setTimeout(r, 50));
    c.ws.send(JSON.stringify({ kind: 'sub', data: await mintToken(herald.url, 'exp-b', ['t']), id: 7 }));
    const frames = await c.waitFor(2);
    expect(frames[1]).toEqual({
      kind: 'sub',
      id: 7,
      data: { ok: true, topics: [{ channel: 'exp-b', name: 't' }] },
    });
    while (Date.now() < expiresAt + 700) await new Promise((r) => setTimeout(r, 50));
    expect(c.closeCode).toBeUndefined();
    await publish(herald.url, 'exp-b', 't', '"still here"');
    // The fresh token expires soon too, so a second warning may come before the message.
    const after = await c.waitFor(c.frames.length + 1);
    const data =
      after.find((f) => f.kind === 'data') ??
      (await c.waitFor(after.length + 1)).find((f) => f.kind === 'data');
    expect(data?.data).toBe('still here');
    c.close();
  });
});
