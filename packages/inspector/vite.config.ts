/**
 * Builds the inspector into `dist/`, which Herald serves at `/` and `/herald/` (only there in
 * sidecar mode; see packages/server/src/transport/inspector-assets.ts): `index.html` plus
 * content-hashed files under `assets/`, so the server can cache those forever and never
 * `index.html`. The page refers to its files relatively (`base: './'`), so it works at either path.
 *
 * `npm run dev` serves it with hot reload on :5173 instead, talking to the Herald of `npm start`
 * (the page calls its own origin, so the API and the WebSocket are proxied there).
 */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const HERALD = process.env.HERALD_URL ?? 'http://127.0.0.1:8288';

export default defineConfig({
  base: './',
  plugins: [react()],
  build: { outDir: 'dist', assetsDir: 'assets', emptyOutDir: true, sourcemap: true },
  server: {
    proxy: {
      '/v1': { target: HERALD, ws: true },
      '/health': HERALD,
      '/metrics': HERALD,
    },
  },
});
