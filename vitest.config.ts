import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

// One runner for the tree: unit tests live beside the code, end-to-end tests under test/.
// End-to-end tests start real processes, so they run in forks with generous timeouts;
// nothing here asserts on wall-clock speed.
//
// `*.test.tsx` files render React components, in a DOM (happy-dom's document on Node's own fetch,
// streams and WebSocket: see packages/realtime/test/dom-environment.ts). test/react18 renders the
// hook with React 18, which npm installs there (a workspace) apart from the root's React 19.
const DOM = './packages/realtime/test/dom-environment.ts';
const REACT18 = ['test/react18/**/*.test.tsx'];
const react18 = (path: string) =>
  fileURLToPath(new URL(`test/react18/node_modules/${path}`, import.meta.url));

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: process.env.CI ? ['default'] : ['default'],
    projects: [
      {
        extends: true,
        test: { name: 'node', include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'dom',
          include: ['packages/*/src/**/*.test.tsx', 'test/**/*.test.tsx'],
          exclude: [...configDefaults.exclude, ...REACT18],
          environment: DOM,
        },
      },
      {
        extends: true,
        // The hook's own `import 'react'` must reach React 18 too.
        resolve: {
          alias: [
            { find: /^react$/, replacement: react18('react/index.js') },
            { find: /^react\/jsx-runtime$/, replacement: react18('react/jsx-runtime.js') },
            { find: /^react\/jsx-dev-runtime$/, replacement: react18('react/jsx-dev-runtime.js') },
            { find: /^react-dom\/client$/, replacement: react18('react-dom/client.js') },
            { find: /^react-dom\/server$/, replacement: react18('react-dom/server.node.js') },
            { find: /^react-dom$/, replacement: react18('react-dom/index.js') },
          ],
        },
        test: { name: 'react18', include: REACT18, environment: DOM },
      },
    ],
  },
});
