/** Builds an example's page (React, TypeScript) into static files with Vite, once at start. */
import react from '@vitejs/plugin-react';
import { build } from 'vite';

export async function buildPage(pageDir: string, outDir: string): Promise<void> {
  await build({
    root: pageDir,
    configFile: false,
    logLevel: 'warn',
    plugins: [react()],
    build: { outDir, emptyOutDir: true },
  });
}
