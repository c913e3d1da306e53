/**
 * Runs an example the way its README says — `npm start` in its directory — and finds the page's URL
 * in what it prints. The example starts its own Herald (and workers); stopping ends the whole
 * process group this started, so nothing outlives the test.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export interface RunningExample {
  /** The page, e.g. http://127.0.0.1:41234/ */
  url: string;
  output(): string;
  stop(): Promise<void>;
}

export async function startExample(name: string, env: Record<string, string> = {}): Promise<RunningExample> {
  const cwd = fileURLToPath(new URL(`../../examples/${name}/`, import.meta.url));
  const proc: ChildProcess = spawn('npm', ['start'], {
    cwd,
    detached: true, // its own process group: npm, the backend, its Herald and workers
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PORT: '0', HERALD_URL: '', ...env },
  });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start in 90 s:\n${out}`)), 90_000);
    const check = () => {
      const m = /page:\s+(http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    };
    proc.stdout?.on('data', check);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before serving:\n${out}`));
    });
  });
  return {
    url,
    output: () => out,
    stop: async () => {
      if (proc.exitCode !== null || proc.pid === undefined) return;
      const exited = once(proc, 'exit');
      process.kill(-proc.pid, 'SIGTERM');
      await exited;
    },
  };
}
