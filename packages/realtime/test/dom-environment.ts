/**
 * A Vitest environment for the hook's tests: happy-dom's document and window, on top of Node's own
 * globals. Vitest's built-in happy-dom environment also replaces `fetch`, `URL`, `AbortController`
 * and friends with happy-dom's partial versions (its `URL` even breaks `fileURLToPath`); a real
 * browser's are complete, so Node's are the better stand-in. Anything Node already has is kept —
 * web streams, fetch, timers, and the WebSocket the SDK picks (Node's, or the `ws` package) — and
 * only what Node lacks (`window`, `document`, `navigator`, DOM classes, …) comes from happy-dom.
 *
 * vitest.config.ts runs every `*.test.tsx` in it.
 */
import { GlobalWindow } from 'happy-dom';
import type { Environment } from 'vitest/environments';

// Present in happy-dom's window but not in Node 20; a real browser has them, and the SDK uses a
// global one if there is one, so Node's choice (`ws`) is kept on every Node version.
const KEEP_NODE = new Set(['WebSocket']);

export default {
  name: 'herald-dom',
  // Node module resolution (the `ws` package, not its browser stub).
  viteEnvironment: 'ssr',
  setup(global: Record<string, unknown>) {
    // GlobalWindow (as Vitest's own environment uses): built on this realm's builtins, not a VM's.
    const win = new GlobalWindow({ url: 'http://localhost:3000', settings: { disableErrorCapturing: true } });
    const source = win as unknown as Record<string, unknown>;
    const added: string[] = [];
    for (const key of Object.getOwnPropertyNames(win)) {
      if (key in global || KEEP_NODE.has(key)) continue;
      const value = source[key];
      // Methods of the window (getComputedStyle, requestAnimationFrame, …) need it as `this`.
      const own = typeof value === 'function' && key[0] !== key[0]?.toUpperCase() ? value.bind(win) : value;
      Object.defineProperty(global, key, { value: own, configurable: true, writable: true });
      added.push(key);
    }
    return {
      async teardown() {
        await win.happyDOM.abort();
        win.close();
        for (const key of added) delete global[key];
      },
    };
  },
} satisfies Environment;
