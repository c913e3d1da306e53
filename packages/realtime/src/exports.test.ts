/**
 * The package as users import it: the exports map points at the built `dist` (build first; `npm test`
 * does), the root entry has 0.4.7's names, `./middleware` re-exports the types namespace (and has
 * the v3 lifecycle middleware), `./lifecycle` the v4 one.
 */
import { describe, expect, it } from 'vitest';

describe('package entry points', () => {
  it('"." exports 0.4.7\'s runtime names plus the Realtime client', async () => {
    const root = await import('@herald/realtime');
    for (const name of [
      'channel',
      'typeOnlyChannel',
      'topic',
      'TopicDefinitionImpl',
      'subscribe',
      'getSubscriptionToken',
    ])
      expect(typeof (root as Record<string, unknown>)[name]).toBe('function');
    expect(typeof root.Realtime).toBe('function');
    expect(
      root.Realtime.messageSchema.parse({ kind: 'data', data: 1, created_at: '2026-01-01T00:00:00Z' }),
    ).toEqual({
      kind: 'data',
      data: 1,
      created_at: new Date('2026-01-01T00:00:00Z'),
    });
    expect(root.Realtime.messageSchema.safeParse({ kind: 'data', channel: null }).success).toBe(false);
  });

  it('"./middleware" exports realtimeMiddleware and the Realtime namespace', async () => {
    const mw = await import('@herald/realtime/middleware');
    expect(typeof mw.realtimeMiddleware).toBe('function');
    expect(mw.realtimeMiddleware().name).toBe('publish');
    expect(typeof mw.Realtime).toBe('function');
    expect(mw.runLifecycleMiddleware().name).toBe('herald:run-lifecycle');
  });

  it('"./lifecycle" exports the v4 lifecycle middleware without importing inngest', async () => {
    const lc = await import('@herald/realtime/lifecycle');
    expect(typeof lc.runLifecycleMiddleware).toBe('function');
    expect(lc.runLifecycleChannel('01R')).toBe('run:01R');
    expect(typeof lc.runLifecycleOf).toBe('function');
    // The app's own inngest is handed in: nothing on this path imports one.
    const { readFile } = await import('node:fs/promises');
    for (const file of ['lifecycle.js', 'run-lifecycle.js', 'publish.js', 'app.js']) {
      const text = await readFile(new URL(`../dist/${file}`, import.meta.url), 'utf8');
      expect(text, file).not.toMatch(/^import[^\n]*from ['"]inngest/m);
    }
  });
});
