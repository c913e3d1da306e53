/**
 * The SDK bundles for browsers with Vite without pulling in Node: no `ws`, no `node:` modules, no
 * `inngest` in a bundle of the root entry (the `ws` fallback is loaded only at runtime, by name).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { expect, it } from 'vitest';

it('bundles the root entry for the browser with Vite', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'herald-vite-'));
  try {
    const entry = join(dir, 'main.js');
    const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    await writeFile(
      entry,
      `import { channel, topic, subscribe, Realtime } from ${JSON.stringify(dist)};\n` +
        `const ch = channel('c').addTopic(topic('t').type());\n` +
        `export const run = () => subscribe({ channel: ch(), topics: ['t'] });\n` +
        `export const client = () => new Realtime({ baseUrl: location.origin });\n`,
    );
    const out = await build({
      root: dir,
      logLevel: 'silent',
      configFile: false,
      build: {
        write: false,
        minify: false,
        lib: { entry, formats: ['es'], fileName: 'bundle' },
        rollupOptions: { external: [] },
      },
    });
    const outputs = (Array.isArray(out) ? out : [out]) as { output: { type: string; code?: string }[] }[];
    const code = outputs.flatMap((o) => o.output.map((c) => c.code ?? '')).join('\n');
    expect(code).toContain('/v1/realtime/connect');
    expect(code).not.toMatch(/from ["']ws["']|require\(["']ws["']\)/);
    expect(code).not.toMatch(/["']node:/);
    expect(code).not.toMatch(/from ["']inngest/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
