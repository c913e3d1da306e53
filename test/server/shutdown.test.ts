/**
 * Graceful shutdown (SIGTERM/SIGINT): new subscribers are refused, every subscriber gets a
 * `closing` frame and then a real close frame 1001 (F8, F20), SSE responses end, and the process
 * exits 0 — at once when everyone left, or after `--shutdown-grace` when someone does not.
 * §7.54 (the broadcaster's Close) is covered here.
 */

import { once } from 'node:events';
import http from 'node:http';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { FrameCollector, mintToken, publish } from '../support/client.js';
import { startHerald } from '../support/herald.js';
import { frameWhere, healthReaches, SseClient, serverErrors } from './helpers.js';

const socketOf = (c: FrameCollector) => (c.ws as unknown as { _socket: Socket })._socket;

describe('graceful shutdown', () => {
  it('sends closing, then closes 1001, ends SSE, refuses newcomers and exits 0 (SIGTERM)', async () => {
    // §7.54. The grace period (60 s) is longer than this test may take: the process must exit as
    // soon as everyone left, even though the SSE client keeps its socket alive for reuse.
    const h = await startHerald({ args: ['--shutdown-grace', '60s'] });
    const token = await mintToken(h.url, 'c', ['t']);
    const ws = [await FrameCollector.connect(h.wsUrl, token), await FrameCollector.connect(h.wsUrl, token)];
    const agent = new http.Agent({ keepAlive: true, timeout: 0 });
    const sse = await SseClient.open(h.url, token, { agent });
    await healthReaches(h.url, { connections: 3 });
    await publish(h.url, 'c', 't', '"before"');
    for (const c of ws) await frameWhere(c, (f) => f.data === 'before');

    const exited = once(h.proc, 'exit');
    h.proc.kill('SIGTERM');
    for (const c of ws) {
      const closing = await frameWhere(c, (f) => f.kind === 'closing');
      expect(closing).toEqual({ kind: 'closing', data: '', created_at: expect.any(String), topic: '' });
      expect(await c.closed()).toBe(1001);
      expect(c.closeReason).toBe('server shutting down');
      expect(c.frames.map((f) => f.kind)).toEqual(['data', 'closing']); // closing is the last frame
    }
    await sse.waitForEnd();
    expect(sse.events().map((e) => e.kind)).toEqual(['data', 'closing']);
    // Subscribing after shutdown began fails (the listener is closed).
    await expect(FrameCollector.connect(h.wsUrl, token)).rejects.toThrow();
    const [code, signal] = (await exited) as [number | null, string | null];
    expect(signal).toBeNull();
    expect(code).toBe(0);
    expect(serverErrors(h.output())).toEqual([]);
    agent.destroy();
  }, 40_000);

  it('exits 0 on SIGINT too', async () => {
    const h = await startHerald();
    const c = await FrameCollector.connect(h.wsUrl, await mintToken(h.url, 'c', ['t']));
    const exited = once(h.proc, 'exit');
    h.proc.kill('SIGINT');
    await frameWhere(c, (f) => f.kind === 'closing');
    expect(await c.closed()).toBe(1001);
    expect((await exited)[0]).toBe(0);
    expect(serverErrors(h.output())).toEqual([]);
  });

  it('exits 0 once the grace period is over, even if a client never finishes the close', async () => {
    const h = await startHerald({ args: ['--shutdown-grace', '1s'] });
    const stuck = await FrameCollector.connect(h.wsUrl, await mintToken(h.url, 'c', ['t']));
    socketOf(stuck).pause(); // never reads the closing frame, never answers the close
    const exited = once(h.proc, 'exit');
    h.proc.kill('SIGTERM');
    const [code, signal] = (await exited) as [number | null, string | null];
    expect(signal).toBeNull();
    expect(code).toBe(0);
    expect(serverErrors(h.output())).toEqual([]);
    socketOf(stuck).resume();
    await stuck.closed();
  });

  it('exits at once (code 1) on a second signal during the grace period', async () => {
    const h = await startHerald({ args: ['--shutdown-grace', '60s'] });
    const token = await mintToken(h.url, 'c', ['t']);
    const stuck = await FrameCollector.connect(h.wsUrl, token);
    const watcher = await FrameCollector.connect(h.wsUrl, token);
    socketOf(stuck).pause();
    const exited = once(h.proc, 'exit');
    h.proc.kill('SIGTERM');
    await frameWhere(watcher, (f) => f.kind === 'closing'); // the first signal landed
    h.proc.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    expect(code).toBe(1);
    expect(h.output()).toContain('second signal, exiting now');
    socketOf(stuck).resume();
    await stuck.closed();
  });
});
