/**
 * The Herald an example talks to: the one at `HERALD_URL` when that is set (e.g. `npm start`
 * running at the repository root: HERALD_URL=http://127.0.0.1:8288), else a `herald dev` of this
 * repository started for the example on a free port, and stopped with it.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface ExampleHerald {
  url: string;
  /** Whether the example started it (and so stops it). */
  own: boolean;
  stop(): void;
}

export async function exampleHerald(): Promise<ExampleHerald> {
  const given = process.env.HERALD_URL;
  if (given) return { url: given.replace(/\/$/, ''), own: false, stop: () => {} };
  // The built CLI beside @herald/server's entry (npm install builds it).
  const cli = join(dirname(createRequire(import.meta.url).resolve('@herald/server')), 'cli.js');
  const proc = spawn(process.execPath, [cli, 'dev', '--port', process.env.HERALD_PORT ?? '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, HERALD_LOG_LEVEL: process.env.HERALD_LOG_LEVEL ?? 'warn' },
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Herald listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve((m[1] as string).replace(/\/$/, ''));
    });
    proc.once('exit', (code) => reject(new Error(`herald dev exited with ${code}:\n${out}`)));
  });
  proc.stdout.resume();
  return { url, own: true, stop: () => proc.kill('SIGTERM') };
}
