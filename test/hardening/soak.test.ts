/**
 * Soak, quick variant (bench/src/soak; the long run is `npm run soak`): 2,000 WebSocket subscribers
 * over 100 channels on one `herald start` (memory engine, then Redis: its live feed can lag the
 * history read at the resume seam), 1,000 msg/s for 30 s, 1 % of the subscribers leaving and
 * resuming every second. Every subscriber decodes every message; nothing may be lost, duplicated or
 * reordered, every publish must be accepted, every subscriber must end at its channel's last
 * position, and the heap must not run away (a generous leak guard, not a timing figure).
 *
 * Prints the runner's summary and writes it to test-results/hardening/soak.json (soak-redis.json;
 * the charts to .svg). No assertion depends on speed: latency is reported, not checked.
 */
import { execFile, execFileSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisAvailable } from '../support/redis.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RUNNER = join(ROOT, 'bench', 'dist', 'soak', 'main.js');
const RESULTS = join(ROOT, 'test-results', 'hardening');
/** Lock shared with everyone who builds in this checkout (other builds may run at the same time). */
const BUILD_LOCK = '/tmp/herald-build.lock';

/** The fields of bench/src/soak/result.ts this test reads. */
interface SoakResult {
  ok: boolean;
  problems: string[];
  warnings: string[];
  params: { connections: number; channels: number; durationSeconds: number; churnPercent: number };
  summary: {
    published: { ok: number; failed: number; skipped: number };
    deliveries: number;
    expectedDeliveries: number;
    reconnects: number;
    lost: number;
    duplicated: number;
    reordered: number;
    recoveredFalse: number;
    final: { subscribers: number; caughtUp: number; healthConnections: number };
    heapUsedBytes: { start: number; end: number; max: number };
    idle: { before: { heapAfterGc: number }; after: { heapAfterGc: number } };
  };
}

const MB = 2 ** 20;
const guard = (start: number) => 2 * start + 50 * MB;

function hasFlock(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v flock'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

let out = '';

beforeAll(() => {
  // The runner is compiled TypeScript (bench/dist): build it, so a fresh clone works.
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const build = [process.execPath, tsc, '-b', 'bench'];
  if (hasFlock()) execFileSync('flock', [BUILD_LOCK, ...build], { cwd: ROOT, stdio: 'inherit' });
  else execFileSync(build[0] as string, build.slice(1), { cwd: ROOT, stdio: 'inherit' });
  out = mkdtempSync(join(tmpdir(), 'herald-soak-'));
}, 180_000);

afterAll(() => {
  if (out) rmSync(out, { recursive: true, force: true });
});

function runSoak(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [RUNNER, ...args],
      { cwd: ROOT, maxBuffer: 64 * MB, env: { ...process.env, FORCE_COLOR: '0' } },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
    child.stdin?.end();
  });
}

const engines = [
  { engine: 'memory', name: 'soak', run: true },
  { engine: 'redis', name: 'soak-redis', run: redisAvailable() },
];

describe.each(engines)('soak (quick), $engine engine', ({ engine, name, run: available }) => {
  it.skipIf(!available)(
    '2,000 subscribers, 30 s of publishing with churn and resume: nothing lost, duplicated or reordered',
    async () => {
      const dir = join(out, engine);
      mkdirSync(dir);
      const run = await runSoak(['--quick', '--engine', engine, '--out', dir]);
      const file = readdirSync(dir).find((f) => f.endsWith('.json'));
      if (file === undefined)
        throw new Error(`the soak wrote no result (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
      const r = JSON.parse(readFileSync(join(dir, file), 'utf8')) as SoakResult;
      const summary = run.stdout.slice(run.stdout.lastIndexOf('Soak '));
      console.log(`\n${summary}`);

      mkdirSync(RESULTS, { recursive: true });
      writeFileSync(join(RESULTS, `${name}.json`), `${JSON.stringify(r, null, 2)}\n`);
      copyFileSync(join(dir, file.replace(/\.json$/, '.svg')), join(RESULTS, `${name}.svg`));

      const s = r.summary;
      expect({ lost: s.lost, duplicated: s.duplicated, reordered: s.reordered }).toEqual({
        lost: 0,
        duplicated: 0,
        reordered: 0,
      });
      expect(s.published.failed).toBe(0);
      expect(s.published.ok).toBeGreaterThan(0);
      expect(s.recoveredFalse).toBe(0);
      // Every subscriber ended at its channel's last acknowledged position, still connected.
      expect(s.final.subscribers).toBe(r.params.connections);
      expect(s.final.caughtUp).toBe(s.final.subscribers);
      expect(s.final.healthConnections).toBe(r.params.connections);
      expect(s.deliveries).toBe(s.expectedDeliveries);
      // Churn happened at about its rate (owed by the clock; those still away at the end are missing).
      const expected = (r.params.churnPercent / 100) * r.params.connections * r.params.durationSeconds;
      expect(s.reconnects).toBeGreaterThan(0.5 * expected);
      expect(s.reconnects).toBeLessThan(1.2 * expected);
      // Leak guard: generous, both sampled and after a full GC.
      expect(s.heapUsedBytes.end).toBeLessThanOrEqual(guard(s.heapUsedBytes.start));
      expect(s.idle.after.heapAfterGc).toBeLessThanOrEqual(guard(s.idle.before.heapAfterGc));
      expect(r.problems).toEqual([]);
      expect(run.code).toBe(0);
    },
    180_000,
  );
});
