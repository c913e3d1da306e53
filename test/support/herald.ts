/**
 * Starts a real Herald process (the built CLI) on 127.0.0.1 and a free port, for end-to-end tests.
 * `npm test` builds first, so `packages/server/dist` is current.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../packages/server/dist/cli.js', import.meta.url));

export interface HeraldProcess {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  wsUrl: string;
  port: number;
  proc: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM, then wait for exit (SIGKILL after `timeoutMs`). Returns the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
}

export interface StartOptions {
  mode?: 'dev' | 'start';
  args?: string[];
  env?: Record<string, string | undefined>;
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
}

export async function startHerald(options: StartOptions = {}): Promise<HeraldProcess> {
  const args = [CLI, options.mode ?? 'dev', '--host', '127.0.0.1', '--port', String(options.port ?? 0)];
  args.push(...(options.args ?? []));
  const env: Record<string, string | undefined> = {
    ...process.env,
    HERALD_LOG_LEVEL: 'warn',
    // Suites refuse many credentials from 127.0.0.1 on purpose; the ones that test the
    // auth-failure limit set it themselves.
    HERALD_AUTH_FAILURE_LIMIT: '0',
  };
  // A developer's own key must not leak into tests that expect dev mode.
  delete env.INNGEST_SIGNING_KEY;
  delete env.INNGEST_SIGNING_KEY_FALLBACK;
  Object.assign(env, options.env);
  const proc = spawn(process.execPath, args, {
    env: env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Herald did not start in 15 s:\n${out}`)), 15_000);
    const check = () => {
      const m = /Herald listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    };
    proc.stdout?.on('data', check);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Herald exited with ${code} before listening:\n${out}`));
    });
  });
  const port = Number(new URL(url).port);
  return {
    url,
    wsUrl: url.replace(/^http/, 'ws'),
    port,
    proc,
    output: () => out,
    kill: (signal = 'SIGKILL') => {
      proc.kill(signal);
    },
    stop: async (timeoutMs = 10_000) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      const exited = once(proc, 'exit');
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      const [code] = (await exited) as [number | null];
      clearTimeout(timer);
      return code;
    },
  };
}

/** Runs the CLI to completion (for --help and refusal tests). */
export async function runCli(
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const e: Record<string, string | undefined> = { ...process.env };
  delete e.INNGEST_SIGNING_KEY;
  Object.assign(e, env);
  const proc = spawn(process.execPath, [CLI, ...args], {
    env: e as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  proc.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const [code] = (await once(proc, 'exit')) as [number | null];
  return { code, stdout, stderr };
}
