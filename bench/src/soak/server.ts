/**
 * The Herald under soak: `herald start` (production mode, so tokens are signed with a real signing
 * key) on 127.0.0.1, with the benchmark's memory probe preloaded (a full-GC heap reading over IPC),
 * optionally on its own fresh redis-server. Limits that would refuse the soak's own load (many
 * connections from a few loopback addresses) are turned off when this build has them.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MemReply, request } from '../lib/ipc.js';
import { type Proc, rssBytes, spawnNode, stop } from '../lib/procs.js';
import { freePort, HERALD_CLI, heraldProcessArgs, startRedis, waitHealthy } from '../targets.js';

const HOST = '127.0.0.1';

/**
 * Options of `herald start` set to "off" when this build knows them: the soak opens thousands of
 * connections from 8 loopback addresses, which a per-IP cap would refuse.
 */
const LIMITS_OFF: [flag: string, value: string][] = [['--max-connections-per-ip', '0']];

export interface SoakServer {
  herald: Proc;
  redis: Proc | undefined;
  host: string;
  port: number;
  url: string;
  signingKey: string;
  /** The arguments Herald was started with (the signing key elided). */
  args: string[];
  /** Limit options this build has and the soak turned off. */
  limitsOff: string[];
  stop(): Promise<void>;
}

function startHelp(): string {
  try {
    return execFileSync(process.execPath, [HERALD_CLI, 'start', '--help'], { encoding: 'utf8' });
  } catch (e) {
    return String((e as { stdout?: string }).stdout ?? '');
  }
}

export async function startSoakServer(o: {
  engine: 'memory' | 'redis';
  tokenTtlSeconds: number;
  /** Where Node writes Herald's CPU profile when it exits (`--cpu-prof`); none when undefined. */
  profileDir?: string | undefined;
}): Promise<SoakServer> {
  const help = startHelp();
  const limitsOff = LIMITS_OFF.filter(([flag]) => help.includes(`${flag} `)).flat();
  const signingKey = `signkey-soak-${randomBytes(32).toString('hex')}`;
  let redis: Proc | undefined;
  let dir: string | undefined;
  const extra: string[] = [];
  try {
    if (o.engine === 'redis') {
      dir = mkdtempSync(join(tmpdir(), 'herald-soak-redis-'));
      const redisPort = await freePort();
      redis = await startRedis(dir, redisPort);
      extra.push('--redis-url', `redis://${HOST}:${redisPort}`);
    }
    const port = await freePort();
    const { nodeArgs, heraldArgs: args } = heraldProcessArgs({
      mode: 'start',
      port,
      tokenTtl: String(o.tokenTtlSeconds),
      cpuProfileDir: o.profileDir,
      extra: [...limitsOff, ...extra],
    });
    const herald = spawnNode('herald', [...nodeArgs, '--signing-key', signingKey], { ipc: true });
    const url = `http://${HOST}:${port}`;
    try {
      await waitHealthy(herald, url, 20_000);
    } catch (e) {
      await stop(herald, 1000);
      throw e;
    }
    const cleanupDir = dir;
    const r = redis;
    return {
      herald,
      redis,
      host: HOST,
      port,
      url,
      signingKey,
      args: [...args, '--signing-key', '<random>'],
      limitsOff,
      stop: async () => {
        await stop(herald, 8000);
        if (r) await stop(r, 5000);
        if (cleanupDir) rmSync(cleanupDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    if (redis) await stop(redis, 1000);
    if (dir) rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** Herald's heap after a full GC (through the probe) and its RSS, in bytes. */
export async function idleMemory(s: SoakServer): Promise<{ heapAfterGc: number; rss: number }> {
  const m = await request<MemReply>(s.herald, { type: 'mem', gc: true }, 60_000);
  return { heapAfterGc: m.heapUsed, rss: rssBytes(s.herald.pid) };
}

/** `heap used` from /metrics (prom-client's default `nodejs_heap_size_used_bytes`), bytes. */
export async function metricsHeap(s: SoakServer): Promise<number> {
  const res = await fetch(`${s.url}/metrics`, { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  const m = /^(?:\w+_)?nodejs_heap_size_used_bytes(?:\{[^}]*\})? (\S+)/m.exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

/** Open connections, from /health. */
export async function healthConnections(s: SoakServer): Promise<number> {
  const res = await fetch(`${s.url}/health`, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as { connections?: number };
  return typeof body.connections === 'number' ? body.connections : Number.NaN;
}

/** Mints one subscription token per channel (signing key), `concurrency` at a time. */
export async function mintTokens(s: SoakServer, channels: string[], topic: string): Promise<string[]> {
  const out = new Array<string>(channels.length);
  let next = 0;
  const one = async () => {
    while (next < channels.length) {
      const i = next++;
      const res = await fetch(`${s.url}/v1/realtime/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${s.signingKey}` },
        body: JSON.stringify([{ channel: channels[i], name: topic }]),
        signal: AbortSignal.timeout(10_000),
      });
      const body = (await res.json()) as { jwt?: string };
      if (res.status !== 201 || typeof body.jwt !== 'string')
        throw new Error(`token request answered ${res.status}: ${JSON.stringify(body)}`);
      out[i] = body.jwt;
    }
  };
  await Promise.all(Array.from({ length: 16 }, one));
  return out;
}

/** The history window (`--history-size`, `--history-ttl`), from /v1/admin/stats. */
export async function historySettings(s: SoakServer): Promise<{ size: number; ttlSeconds: number }> {
  const res = await fetch(`${s.url}/v1/admin/stats?limit=1`, {
    headers: { authorization: `Bearer ${s.signingKey}` },
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json()) as { history?: { size?: number; ttlSeconds?: number } };
  const h = body.history;
  if (typeof h?.size !== 'number' || typeof h.ttlSeconds !== 'number')
    throw new Error(`/v1/admin/stats answered ${res.status} without the history settings`);
  return { size: h.size, ttlSeconds: h.ttlSeconds };
}
