/**
 * Starts a real `redis-server` (Debian package; `.ci/run` installs it) on a free loopback port.
 * Without the binary, Redis tests are skipped loudly on a developer machine and fail under CI=true.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function redisAvailable(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI)
      throw new Error('redis-server is required under CI=true (apt-get install -y redis-server)');
    console.warn(
      '\n!!! redis-server not found: Redis tests are SKIPPED. Install it: apt-get install -y redis-server\n',
    );
    return false;
  }
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  srv.close();
  return port;
}

export interface RedisProcess {
  url: string;
  port: number;
  proc: ChildProcess;
  /** SIGKILL (unclean) or SIGTERM, and wait for exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port with the same data directory. */
  restart(): Promise<RedisProcess>;
}

export async function startRedis(
  options: { aof?: boolean; port?: number; dir?: string } = {},
): Promise<RedisProcess> {
  const port = options.port ?? (await freePort());
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'herald-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''];
  args.push('--appendonly', options.aof ? 'yes' : 'no');
  if (options.aof) args.push('--appendfsync', 'always');
  const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${out}`)), 10_000);
    proc.stdout?.on('data', () => {
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}:\n${out}`));
    });
  });
  const self: RedisProcess = {
    url: `redis://127.0.0.1:${port}`,
    port,
    proc,
    stop: async (signal = 'SIGTERM') => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = once(proc, 'exit');
      proc.kill(signal);
      await exited;
      if (options.dir === undefined && signal === 'SIGTERM' && !options.aof)
        rmSync(dir, { recursive: true, force: true });
    },
    restart: () => startRedis({ ...options, port, dir }),
  };
  return self;
}
