/**
 * Builds the inspector into `dist/`, which Herald serves at `/` (see
 * packages/server/src/transport/inspector-assets.ts): `index.html` plus content-hashed files under
 * `/assets/`, so the server can cache those forever and never `index.html`.
 */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  plugins: [react()],
  build: { outDir: 'dist', assetsDir: 'assets', emptyOutDir: true, sourcemap: true },
});
