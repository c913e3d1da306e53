/**
 * The servers under test. Each starts as its own process (through `spawnNode`, with the memory probe
 * preloaded), listens on 127.0.0.1, and is ready when `GET /health` answers 200. A target may be
 * several nodes: subscribers are spread across its endpoints and its CPU and memory are summed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Proc, spawnNode, spawnProcess, stop } from './lib/procs.js';

export type TargetId = 'naive-ws' | 'socketio' | 'herald-memory' | 'herald-redis';

export interface TargetSpec {
  id: TargetId;
  label: string;
  /** How subscribers speak to it. */
  protocol: 'ws' | 'sio';
  /** Set when the target cannot run yet, saying why; the table shows it as not run. */
  unavailable?: string;
}

export interface Endpoint {
  host: string;
  port: number;
  url: string;
}

export interface RunningTarget {
  spec: TargetSpec;
  /** Every process of the target (CPU is summed over them). */
  procs: Proc[];
  endpoints: Endpoint[];
  /** Extra cleanup after the processes stopped. */
  cleanup?: () => void;
}

/** The processes that answer the memory probe (the Herald nodes, not redis-server). */
export const probed = (t: RunningTarget): Proc[] => t.procs.filter((p) => p.name !== 'redis-server');

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root (this file runs from bench/dist). */
export const ROOT = join(here, '..', '..');
const PROBE = join(here, 'servers', 'probe.js');
export const HERALD_CLI = join(ROOT, 'packages', 'server', 'dist', 'cli.js');
const HOST = '127.0.0.1';

export const TARGETS: TargetSpec[] = [
  { id: 'naive-ws', label: 'naive ws', protocol: 'ws' },
  { id: 'socketio', label: 'Socket.IO', protocol: 'sio' },
  { id: 'herald-memory', label: 'Herald (memory)', protocol: 'ws' },
  {
    // Scenario (d): one redis-server and three Herald nodes on it; subscribers and publishes are
    // spread over the three endpoints, CPU and memory are summed over the four processes.
    id: 'herald-redis',
    label: 'Herald (Redis, 3 nodes)',
    protocol: 'ws',
    ...redisMissing(),
  },
];

/** Herald nodes in the Redis target. */
export const REDIS_NODES = 3;

function redisMissing(): { unavailable?: string } {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return {};
  } catch {
    return { unavailable: 'redis-server is not installed (apt-get install redis-server)' };
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, HOST, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface StartOptions {
  /** Write a CPU profile of each Herald node into this directory (`--cpu-prof`). */
  cpuProfileDir?: string;
  /** Extra `herald dev` options for a scenario (Herald targets only), e.g. a larger send queue. */
  heraldArgs?: string[];
}

/**
 * How the benchmark and the soak start a Herald node: on loopback, logging warnings only, with
 * tokens that outlive the run and the memory probe preloaded. `heraldArgs` is what to report.
 */
export function heraldProcessArgs(o: {
  mode: 'dev' | 'start';
  port: number;
  tokenTtl: string;
  cpuProfileDir?: string | undefined;
  extra?: string[];
}): { nodeArgs: string[]; heraldArgs: string[] } {
  const heraldArgs = [
    o.mode,
    '--host',
    HOST,
    '--port',
    String(o.port),
    '--log-level',
    'warn',
    '--token-ttl',
    o.tokenTtl,
    '--shutdown-grace',
    '2s',
    ...(o.extra ?? []),
  ];
  const profile = o.cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', o.cpuProfileDir] : [];
  return { nodeArgs: ['--expose-gc', '--import', PROBE, ...profile, HERALD_CLI, ...heraldArgs], heraldArgs };
}

function heraldArgs(port: number, o: StartOptions, extra: string[] = []): string[] {
  return heraldProcessArgs({
    mode: 'dev',
    port,
    tokenTtl: '1h',
    cpuProfileDir: o.cpuProfileDir,
    extra: [...(o.heraldArgs ?? []), ...extra],
  }).nodeArgs;
}

function nodeArgs(spec: TargetSpec, port: number, o: StartOptions): string[] {
  const pre = ['--expose-gc', '--import', PROBE];
  switch (spec.id) {
    case 'naive-ws':
      return [...pre, join(here, 'servers', 'naive-ws.js'), '--port', String(port)];
    case 'socketio':
      return [...pre, join(here, 'servers', 'socketio.js'), '--port', String(port)];
    case 'herald-memory':
      return heraldArgs(port, o);
    case 'herald-redis':
      throw new Error('the Redis target is started by startRedisTarget');
  }
}

/** Resolves once something answers `PING` with `+PONG` on the port. */
export async function waitRedis(p: Proc, port: number, timeoutMs: number): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (performance.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: HOST, port }, () => s.write('PING\r\n'));
      s.setTimeout(1000, () => s.destroy());
      s.on('data', (d) => {
        s.destroy();
        resolve(d.toString().startsWith('+PONG'));
      });
      s.on('error', () => resolve(false));
      s.on('close', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`redis-server did not answer PING within ${timeoutMs} ms:\n${p.tail()}`);
}

/** A throwaway `redis-server` on loopback (no persistence, files in `dir`), once it answers. */
export async function startRedis(dir: string, port: number): Promise<Proc> {
  const redis = spawnProcess('redis-server', 'redis-server', [
    '--port',
    String(port),
    '--bind',
    HOST,
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'no',
  ]);
  await waitRedis(redis, port, 10_000);
  return redis;
}

async function startRedisTarget(spec: TargetSpec, o: StartOptions): Promise<RunningTarget> {
  const procs: Proc[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-redis-'));
  try {
    const redisPort = await freePort();
    const redis = await startRedis(dir, redisPort);
    procs.push(redis);
    const endpoints: Endpoint[] = [];
    for (let i = 0; i < REDIS_NODES; i++) {
      const port = await freePort();
      const node = spawnNode(
        `herald-redis-${i + 1}`,
        heraldArgs(port, o, ['--redis-url', `redis://${HOST}:${redisPort}`]),
        {
          ipc: true,
        },
      );
      procs.push(node);
      const url = `http://${HOST}:${port}`;
      await waitHealthy(node, url, 20_000);
      endpoints.push({ host: HOST, port, url });
    }
    return { spec, procs, endpoints, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (e) {
    await Promise.all(procs.map((p) => stop(p, 1000)));
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

export async function waitHealthy(p: Proc, url: string, timeoutMs: number): Promise<void> {
  const until = performance.now() + timeoutMs;
  let exited = false;
  p.exited.then(() => {
    exited = true;
  });
  while (performance.now() < until) {
    if (exited) throw new Error(`${p.name} exited during startup:\n${p.tail()}`);
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${p.name} did not answer /health within ${timeoutMs} ms:\n${p.tail()}`);
}

export async function startTarget(spec: TargetSpec, o: StartOptions = {}): Promise<RunningTarget> {
  if (spec.unavailable) throw new Error(`${spec.label}: ${spec.unavailable}`);
  if (spec.id === 'herald-redis') return startRedisTarget(spec, o);
  const port = await freePort();
  const proc = spawnNode(spec.id, nodeArgs(spec, port, o), { ipc: true });
  const url = `http://${HOST}:${port}`;
  try {
    await waitHealthy(proc, url, 20_000);
  } catch (e) {
    await stop(proc, 1000);
    throw e;
  }
  return { spec, procs: [proc], endpoints: [{ host: HOST, port, url }] };
}

export async function stopTarget(t: RunningTarget): Promise<void> {
  // Herald nodes first (they close their Redis connections), then Redis.
  await Promise.all(probed(t).map((p) => stop(p, 8000)));
  await Promise.all(t.procs.map((p) => stop(p, 8000)));
  t.cleanup?.();
}
