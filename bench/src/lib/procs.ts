/**
 * Child processes of the benchmark: servers under test, load generators, autocannon. Each runs in
 * its own process group with the file-descriptor limit raised as far as this machine allows, and is
 * registered here so that every exit path (end, failure, Ctrl-C, SIGTERM) ends it — no orphans.
 * Generators and servers also watch their IPC channel and exit when the orchestrator disappears.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves with the exit code (or the signal name) when the process ends. */
  readonly exited: Promise<number | string>;
  /** Last lines of stdout and stderr, for error messages. */
  tail(): string;
  /** Lines of stdout seen so far (bounded). */
  readonly out: string[];
}

const live = new Set<Proc>();
const TAIL_LINES = 40;
const OUT_LINES = 200;

/** The hard RLIMIT_NOFILE of this process, which children inherit and may raise their soft limit to. */
export function hardFdLimit(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const hard = line?.trim().split(/\s+/)[4];
    if (hard === 'unlimited') return 1_048_576;
    const n = Number(hard);
    return Number.isFinite(n) && n > 0 ? n : 1024;
  } catch {
    return 1024;
  }
}

export interface SpawnOptions {
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Give the child an IPC channel (process.send). */
  ipc?: boolean;
}

/**
 * Starts `node <args>` through `sh -c 'ulimit -n <hard>; exec node …'`: the shell raises the soft
 * file-descriptor limit to the hard one, then becomes node (same pid, IPC channel kept).
 */
export function spawnNode(name: string, args: string[], options: SpawnOptions = {}): Proc {
  return spawnProcess(name, process.execPath, args, options);
}

/** Like `spawnNode`, for any program. */
export function spawnProcess(
  name: string,
  command: string,
  args: string[],
  options: SpawnOptions = {},
): Proc {
  const script = 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"';
  const child = spawn('sh', ['-c', script, 'sh', command, ...args], {
    stdio: ['ignore', 'pipe', 'pipe', ...(options.ipc ? (['ipc'] as const) : [])],
    detached: true,
    env: { ...process.env, ...options.env },
  });
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  const lines: string[] = [];
  const out: string[] = [];
  const collect = (stream: NodeJS.ReadableStream | null, isOut: boolean) => {
    let rest = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const l of parts) {
        lines.push(l);
        if (lines.length > TAIL_LINES) lines.shift();
        if (isOut && out.length < OUT_LINES) out.push(l);
      }
    });
  };
  collect(child.stdout, true);
  collect(child.stderr, false);
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => {
      live.delete(proc);
      resolve(code ?? signal ?? 'unknown');
    });
  });
  const proc: Proc = { name, child, pid: child.pid, exited, out, tail: () => lines.join('\n') };
  live.add(proc);
  return proc;
}

function signalGroup(p: Proc, signal: NodeJS.Signals): void {
  try {
    process.kill(-p.pid, signal);
  } catch {
    try {
      process.kill(p.pid, signal);
    } catch {
      // already gone
    }
  }
}

/** Asks a process to stop (SIGTERM to its group), then kills the group if it is still there. */
export async function stop(p: Proc, graceMs = 3000): Promise<void> {
  if (!live.has(p)) return;
  signalGroup(p, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    p.exited.then(() => false),
    new Promise<boolean>((r) => {
      timer = setTimeout(() => r(true), graceMs);
    }),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    signalGroup(p, 'SIGKILL');
    await Promise.race([p.exited, new Promise((r) => setTimeout(r, 1000))]);
  }
}

/** Stops every process still running, in parallel. */
export async function stopAll(graceMs = 3000): Promise<void> {
  await Promise.all([...live].map((p) => stop(p, graceMs)));
}

/** Last resort on exit: SIGKILL every group still registered (synchronous). */
export function killAllNow(): void {
  for (const p of live) signalGroup(p, 'SIGKILL');
}

export function liveCount(): number {
  return live.size;
}

const CLK_TCK = 100;

/** CPU seconds (user + system) a process has used so far; 0 if it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

/** Resident set size of a process in bytes (VmRSS); 0 if it is gone. */
export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Busy and total CPU time of the whole machine, in seconds (from /proc/stat). */
export function machineCpu(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    return { busy: (total - idle) / CLK_TCK, total: total / CLK_TCK };
  } catch {
    return { busy: 0, total: 0 };
  }
}

/**
 * Runs a harness's `main` as the process: exits with its code, stops every process it started
 * on the way out, and on SIGINT/SIGTERM stops them too (a second signal kills them at once).
 */
export function runMain(name: string, main: () => Promise<number>): void {
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) {
      killAllNow();
      process.exit(130);
    }
    interrupted = true;
    process.stderr.write(`\n${name}: ${signal}, stopping every process it started…\n`);
    stopAll(2000).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', killAllNow);
  main().then(
    async (code) => {
      await stopAll(2000);
      process.exit(code);
    },
    async (e: unknown) => {
      process.stderr.write(`${name}: ${(e as Error).stack ?? String(e)}\n`);
      await stopAll(2000);
      process.exit(1);
    },
  );
}
