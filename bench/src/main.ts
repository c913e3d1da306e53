import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { machineFacts } from './lib/machine.js';
import { hardFdLimit, machineCpu, runMain } from './lib/procs.js';
import { Progress } from './lib/progress.js';
import { renderChart } from './report/chart.js';
import { updateDocs } from './report/docs.js';
import { renderMarkdown } from './report/markdown.js';
import { summarizeProfiles } from './report/profile.js';
import { renderTerminal } from './report/table.js';
import type { Machine, Results, Run } from './results.js';
import type { RunContext } from './scenarios/common.js';
import { type FanoutParams, fanout } from './scenarios/fanout.js';
import { type LatencyParams, latency } from './scenarios/latency.js';
import { laterScenarios } from './scenarios/later.js';
import { type MemoryParams, memory } from './scenarios/memory.js';
import { type PublishParams, publishRate } from './scenarios/publish.js';
import { type RecoveryParams, recovery } from './scenarios/recovery.js';
import { SDK_SEND_QUEUE_BYTES, type SdkParams, sdk } from './scenarios/sdk.js';
import { ROOT, type RunningTarget, startTarget, stopTarget, TARGETS, type TargetSpec } from './targets.js';

const SCENARIOS = ['fanout', 'latency', 'memory', 'publish', 'sdk', 'recovery'] as const;
type ScenarioId = (typeof SCENARIOS)[number];

interface Plan {
  fanout: FanoutParams[];
  latency: LatencyParams;
  memory: MemoryParams;
  publish: PublishParams;
  sdk: SdkParams;
  recovery: RecoveryParams;
}

const PAYLOAD_BYTES = 100;
/** Full runs wait before each case until the machine uses fewer cores than this (others' work)… */
const QUIET_CORES = 0.5;
/** …but no longer than this. */
const QUIET_WAIT_MS = 30_000;

/**
 * Fan-out read pacing (see gen/main.ts): long enough that each subscriber's read returns several
 * messages (so the generator stays far cheaper than the server), short enough that a socket's
 * kernel buffer holds only a few KB between reads. 20 ms per 1,000 subscribers, 5–200 ms.
 */
const readPaceFor = (subscribers: number): number => Math.min(200, Math.max(5, (subscribers / 1000) * 20));

const FULL: Plan = {
  fanout: [1_000, 10_000].map((subscribers) => ({
    subscribers,
    warmupMs: 2_000,
    measureMs: 10_000,
    inflight: 4,
    payloadBytes: PAYLOAD_BYTES,
    sampleEvery: 100,
    readPaceMs: readPaceFor(subscribers),
  })),
  latency: {
    subscribers: 10_000,
    channels: 500,
    ratePerSec: 1_000,
    warmupMs: 2_000,
    measureMs: 10_000,
    payloadBytes: PAYLOAD_BYTES,
    sampleEvery: 10,
    maxInflight: 64,
  },
  memory: { levels: [10_000, 50_000], settleMs: 2_000 },
  publish: { connections: 32, durationSeconds: 10, payloadBytes: PAYLOAD_BYTES },
  sdk: {
    live: 100_000,
    backlog: 100_000,
    unread: 100_000,
    payloadBytes: PAYLOAD_BYTES,
    publishConnections: 2,
    publishWindow: 8,
  },
  recovery: { messages: 1_000, repeats: 9, payloadBytes: PAYLOAD_BYTES },
};

const QUICK: Plan = {
  fanout: [100, 1_000].map((subscribers) => ({
    subscribers,
    warmupMs: 500,
    measureMs: 2_000,
    inflight: 4,
    payloadBytes: PAYLOAD_BYTES,
    sampleEvery: 10,
    readPaceMs: readPaceFor(subscribers),
  })),
  latency: {
    subscribers: 1_000,
    channels: 10,
    ratePerSec: 200,
    warmupMs: 500,
    measureMs: 2_000,
    payloadBytes: PAYLOAD_BYTES,
    sampleEvery: 5,
    maxInflight: 64,
  },
  memory: { levels: [1_000, 3_000], settleMs: 500 },
  publish: { connections: 16, durationSeconds: 2, payloadBytes: PAYLOAD_BYTES },
  sdk: {
    live: 10_000,
    backlog: 20_000,
    unread: 20_000,
    payloadBytes: PAYLOAD_BYTES,
    publishConnections: 2,
    publishWindow: 8,
  },
  recovery: { messages: 1_000, repeats: 3, payloadBytes: PAYLOAD_BYTES },
};

const USAGE = `usage: npm run bench [-- options]
  --quick              every scenario reduced (well under 2 minutes), for CI
  --only <list>        scenarios to run: ${SCENARIOS.join(',')}
  --targets <list>     servers to run: ${TARGETS.map((t) => t.id).join(',')}
  --profile            write a CPU profile of Herald per run (--cpu-prof) and summarize it
  --help`;

function parse() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      targets: { type: 'string' },
      profile: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const list = <T extends string>(raw: string | undefined, all: readonly T[], what: string): T[] => {
    if (raw === undefined) return [...all];
    const items = raw.split(',').map((s) => s.trim()) as T[];
    const bad = items.filter((i) => !all.includes(i));
    if (bad.length > 0) throw new Error(`unknown ${what}: ${bad.join(', ')} (known: ${all.join(', ')})`);
    return items;
  };
  const scenarios = list(values.only, SCENARIOS, 'scenario');
  const targetIds = list(
    values.targets,
    TARGETS.map((t) => t.id),
    'target',
  );
  return {
    quick: values.quick === true,
    profile: values.profile === true,
    scenarios,
    targets: TARGETS.filter((t) => targetIds.includes(t.id)),
    filtered: values.only !== undefined || values.targets !== undefined,
  };
}

function version(pkg: string): string {
  try {
    return (
      JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }
    ).version;
  } catch {
    return 'unknown';
  }
}

function machine(fdLimit: number): Machine {
  return {
    ...machineFacts(ROOT, fdLimit),
    versions: {
      ws: version('ws'),
      'socket.io': version('socket.io'),
      autocannon: version('autocannon'),
      'hdr-histogram-js': version('hdr-histogram-js'),
      '@herald/server': version('@herald/server'),
      '@herald/realtime': version('@herald/realtime'),
      '@inngest/realtime': version('@inngest/realtime'),
    },
  };
}

function stamp(d: Date): string {
  return d
    .toISOString()
    .replace(/[:.]/g, '-')
    .replace(/-\d{3}Z$/, 'Z');
}

async function main(): Promise<number> {
  let args: ReturnType<typeof parse>;
  try {
    args = parse();
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const plan = args.quick ? QUICK : FULL;
  const fdLimit = hardFdLimit();
  const progress = new Progress();
  const ctx: RunContext = {
    quick: args.quick,
    progress,
    fdLimit,
    sources: Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 2}`),
  };
  const startedAt = new Date();
  const resultsDir = join(ROOT, 'bench', 'results');
  const name = `${stamp(startedAt)}${args.quick ? '-quick' : ''}`;
  const profileDir = args.profile ? join(resultsDir, `${name}-profiles`) : undefined;
  mkdirSync(resultsDir, { recursive: true });
  const m = machine(fdLimit);
  progress.log(
    `Herald benchmark${args.quick ? ' (quick)' : ''}: ${m.cpus} cores, ${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB, ` +
      `Node ${m.node}, load average ${m.loadAverage.join(' ')}, fd limit ${fdLimit}, commit ${m.commit}`,
  );

  const runs: Run[] = [];
  const available = args.targets.filter((t) => !t.unavailable);
  for (const t of args.targets.filter((x) => x.unavailable))
    progress.log(`  skipping ${t.label}: ${t.unavailable}`);

  /**
   * This machine is shared: before each case of a full run, wait (at most QUIET_WAIT_MS) until the
   * processes of others use less than QUIET_CORES, so a case does not start in someone's test burst.
   */
  const waitQuiet = async (): Promise<number> => {
    const until = performance.now() + QUIET_WAIT_MS;
    let busy = 0;
    for (;;) {
      const a = machineCpu();
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, 1000));
      busy = (machineCpu().busy - a.busy) / ((performance.now() - t0) / 1000);
      if (busy < QUIET_CORES || performance.now() >= until) return busy;
      progress.status(`waiting for the machine to quieten: ${busy.toFixed(2)} cores busy`);
    }
  };

  /** Starts a fresh server, runs one case against it, stops it; a failure is recorded, not thrown. */
  const runCase = async <R>(
    scenario: ScenarioId,
    caseId: string,
    spec: TargetSpec,
    fn: (t: RunningTarget) => Promise<R>,
    heraldArgs: string[] = [],
  ): Promise<void> => {
    progress.stage(`${scenario} ${caseId} · ${spec.label}`);
    let t: RunningTarget | undefined;
    const busyBefore = args.quick ? undefined : await waitQuiet();
    try {
      t = await startTarget(spec, { ...(profileDir ? { cpuProfileDir: profileDir } : {}), heraldArgs });
      const result = await fn(t);
      // Problems a scenario recorded without stopping (e.g. a client read fewer messages than sent):
      // the figures are kept, and the run counts as failed for the exit code.
      const problems = (result as { errors?: string[] }).errors ?? [];
      runs.push({
        scenario,
        case: caseId,
        target: spec.id,
        ok: true,
        result,
        busyBefore,
        ...(problems.length > 0 ? { error: problems.join('\n') } : {}),
      } as Run);
      if (problems.length > 0) {
        progress.log(`  ✗ ${scenario} ${caseId} · ${spec.label}: ${problems.length} problem(s)`);
        for (const p of problems.slice(0, 10)) progress.log(`      ${p}`);
      } else progress.log(`  ✓ ${scenario} ${caseId} · ${spec.label}`);
    } catch (e) {
      const error = (e as Error).message;
      runs.push({ scenario, case: caseId, target: spec.id, ok: false, error } as Run);
      progress.log(`  ✗ ${scenario} ${caseId} · ${spec.label}: ${error.split('\n')[0]}`);
      if (error.includes('\n'))
        progress.log(
          error
            .split('\n')
            .slice(1, 12)
            .map((l) => `      ${l}`)
            .join('\n'),
        );
    } finally {
      if (t) await stopTarget(t);
    }
  };

  for (const scenario of args.scenarios) {
    if (scenario === 'fanout') {
      for (const p of plan.fanout)
        for (const spec of available)
          await runCase('fanout', String(p.subscribers), spec, (t) => fanout(ctx, t, p));
    } else if (scenario === 'latency') {
      const p = plan.latency;
      for (const spec of available)
        await runCase('latency', String(p.subscribers), spec, (t) => latency(ctx, t, p));
    } else if (scenario === 'memory') {
      const p = plan.memory;
      for (const spec of available)
        await runCase('memory', p.levels.join('+'), spec, (t) => memory(ctx, t, p));
    } else if (scenario === 'publish') {
      const p = plan.publish;
      for (const spec of available)
        await runCase('publish', String(p.connections), spec, (t) => publishRate(ctx, t, p));
    } else if (scenario === 'sdk') {
      // Both SDK clients against one Herald (in-memory engine); a send queue that holds the backlog.
      const p = plan.sdk;
      for (const spec of available.filter((x) => x.id === 'herald-memory'))
        await runCase('sdk', 'clients', spec, (t) => sdk(ctx, t, p, profileDir), [
          '--send-queue',
          String(SDK_SEND_QUEUE_BYTES),
        ]);
    } else if (scenario === 'recovery') {
      const p = plan.recovery;
      for (const spec of available.filter((x) => x.id === 'herald-memory' || x.id === 'herald-redis'))
        await runCase('recovery', String(p.messages), spec, (t) => recovery(ctx, t, p));
    }
  }
  progress.done();

  const results: Results = {
    schema: 1,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    quick: args.quick,
    machine: m,
    targets: TARGETS.map((t) => ({
      id: t.id,
      label: t.label,
      ...(t.unavailable ? { unavailable: t.unavailable } : {}),
    })),
    params: { ...plan },
    runs,
    later: laterScenarios(),
  };
  const base = join(resultsDir, name);
  writeFileSync(`${base}.json`, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(`${base}.svg`, renderChart(results));
  writeFileSync(`${base}.md`, renderMarkdown(results, `${name}.svg`));
  process.stdout.write(`\n${renderTerminal(results)}\n`);
  if (profileDir) {
    const summary = summarizeProfiles(profileDir);
    writeFileSync(`${base}-profile.md`, summary);
    process.stdout.write(`\n${summary}\n`);
  }
  const official = !args.quick && !args.filtered && !args.profile;
  if (official) {
    for (const ext of ['json', 'svg'] as const)
      copyFileSync(`${base}.${ext}`, join(resultsDir, `latest.${ext}`));
    writeFileSync(join(resultsDir, 'latest.md'), renderMarkdown(results, 'latest.svg'));
    updateDocs(join(ROOT, 'docs', 'performance.md'), results);
  }
  process.stdout.write(
    `\nwrote ${base}.{json,md,svg}${official ? ', bench/results/latest.*, docs/performance.md' : ''}\n`,
  );
  const failed = runs.filter((r) => !r.ok || r.error !== undefined);
  if (failed.length > 0) {
    process.stderr.write(`bench: ${failed.length} run(s) failed (see above)\n`);
    return 1;
  }
  return 0;
}

runMain('bench', main);
