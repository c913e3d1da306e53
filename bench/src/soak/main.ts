import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { machineFacts } from '../lib/machine.js';
import { hardFdLimit, type Proc, runMain, spawnNode, stop } from '../lib/procs.js';
import { Progress } from '../lib/progress.js';
import type { Machine } from '../results.js';
import { type RunContext, sleep, socketsPerGenerator } from '../scenarios/common.js';
import { memoryCap } from '../scenarios/memory.js';
import { ROOT } from '../targets.js';
import { renderSoakChart } from './chart.js';
import type { FleetOptions, VerifyResult } from './fleet.js';
import {
  ask,
  askAll,
  type Done,
  type FleetConnected,
  type FleetProgress,
  type FleetSnapshot,
  type Published,
  type Verified,
} from './ipc.js';
import type { Position, PublisherOptions } from './publisher.js';
import { renderMarkdown, renderText } from './report.js';
import type { Sample, SoakParams, SoakResult, SoakSummary } from './result.js';
import { Sampler, sumAudit } from './sampler.js';
import {
  healthConnections,
  historySettings,
  idleMemory,
  mintTokens,
  type SoakServer,
  startSoakServer,
} from './server.js';
import { judge } from './verdict.js';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'worker.js');
const TOPIC = 't';
const PAYLOAD_BYTES = 100;

const DEFAULTS = {
  long: { duration: 600, connections: 20_000, channels: 1_000, rate: 5_000, churn: 1 },
  quick: { duration: 30, connections: 2_000, channels: 100, rate: 1_000, churn: 1 },
};

const USAGE = `usage: npm run soak [-- options]
  --duration <s>        publishing time, warm-up included (default 600; quick 30)
  --connections <n>     subscribers (default 20,000, capped by the file-descriptor limit; quick 2,000)
  --channels <n>        channels, subscribers spread evenly (default 1,000; quick 100)
  --rate <msg/s>        messages published per second over all channels (default 5,000; quick 1,000)
  --churn <% per s>     subscribers leaving and resuming each second, in % (default 1)
  --away <ms>           a churned subscriber stays away a random time up to this (default 1000)
  --engine memory|redis Herald's engine (default memory; redis starts its own redis-server)
  --quick               30 s, 2,000 connections, 100 channels, 1,000 msg/s (npm test runs this)
  --profile <dir>       write Herald's CPU profile (.cpuprofile, for Chrome DevTools) into <dir>
  --out <dir>           where to write soak-<time>.{json,svg,md} (default bench/results, which
                        also refreshes bench/results/soak-latest.* for a run at the default load
                        and engine for at least 600 s, not profiled)
  --help`;

interface Args {
  quick: boolean;
  duration: number;
  connections: number;
  channels: number;
  rate: number;
  churn: number;
  awayMs: number;
  engine: 'memory' | 'redis';
  out: string | undefined;
  profile: string | undefined;
}

function parse(): Args {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string' },
      connections: { type: 'string' },
      channels: { type: 'string' },
      rate: { type: 'string' },
      churn: { type: 'string' },
      away: { type: 'string' },
      engine: { type: 'string', default: 'memory' },
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      profile: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const quick = values.quick === true;
  const d = quick ? DEFAULTS.quick : DEFAULTS.long;
  const num = (raw: string | undefined, fallback: number, name: string, min: number): number => {
    if (raw === undefined) return fallback;
    const n = Number(raw.replace(/[_,]/g, ''));
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min}, not "${raw}"`);
    return n;
  };
  if (values.engine !== 'memory' && values.engine !== 'redis')
    throw new Error(`--engine must be memory or redis, not "${values.engine}"`);
  const a: Args = {
    quick,
    duration: num(values.duration, d.duration, 'duration', 5),
    connections: Math.floor(num(values.connections, d.connections, 'connections', 1)),
    channels: Math.floor(num(values.channels, d.channels, 'channels', 1)),
    rate: num(values.rate, d.rate, 'rate', 1),
    churn: num(values.churn, d.churn, 'churn', 0),
    awayMs: num(values.away, 1000, 'away', 0),
    engine: values.engine,
    out: values.out,
    profile: values.profile === undefined ? undefined : resolve(values.profile),
  };
  if (a.churn > 100) throw new Error('--churn is a percentage per second, at most 100');
  return a;
}

function machine(fdLimit: number): Omit<Machine, 'versions'> {
  return machineFacts(ROOT, fdLimit);
}

const stamp = (d: Date): string =>
  d
    .toISOString()
    .replace(/[:.]/g, '-')
    .replace(/-\d{3}Z$/, 'Z');

const int = (n: number) => Math.round(n).toLocaleString('en-US');

function sumVerify(rs: VerifyResult[]): VerifyResult {
  const out: VerifyResult = {
    subscribers: 0,
    live: 0,
    caughtUp: 0,
    behind: 0,
    ahead: 0,
    missingTail: 0,
    wrongEpoch: 0,
  };
  for (const r of rs) for (const k of Object.keys(out) as (keyof VerifyResult)[]) out[k] += r[k];
  return out;
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parse();
  } catch (e) {
    process.stderr.write(`soak: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const fdLimit = hardFdLimit();
  const progress = new Progress();
  const ctx: RunContext = {
    quick: args.quick,
    progress,
    fdLimit,
    sources: Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 2}`),
  };
  // One Herald process holds every connection: it needs a descriptor per socket plus its own.
  const cap = memoryCap(ctx);
  const connections = Math.min(args.connections, cap);
  const cappedBy =
    connections < args.connections
      ? `the RLIMIT_NOFILE hard limit of ${int(fdLimit)} per process, less ${int(fdLimit - cap)} for Herald's own descriptors (raising it needs CAP_SYS_RESOURCE)`
      : undefined;
  if (connections < args.channels) {
    process.stderr.write(
      `soak: ${int(connections)} connections cannot cover ${int(args.channels)} channels\n`,
    );
    return 2;
  }
  const warmupSeconds = Math.min(args.quick ? 5 : 10, Math.floor(args.duration / 3));
  const sampleSeconds = args.quick || args.duration < 60 ? 1 : 5;
  const tokenTtlSeconds = Math.ceil(args.duration) + 3600;
  const per = socketsPerGenerator(ctx);
  const fleets = Math.max(2, Math.ceil(connections / per));
  const startedAt = new Date();
  const m = machine(fdLimit);
  progress.log(
    `Herald soak${args.quick ? ' (quick)' : ''}: ${int(connections)} connections${cappedBy ? ` (${int(args.connections)} requested, capped by the fd limit)` : ''}, ` +
      `${int(args.channels)} channels, ${int(args.rate)} msg/s, churn ${args.churn} %/s, ${args.duration} s, ${args.engine} engine; ` +
      `${m.cpus} cores, Node ${m.node}, load average ${m.loadAverage.join(' ')}, fd limit ${fdLimit}, commit ${m.commit}`,
  );

  let server: SoakServer | undefined;
  const workers: Proc[] = [];
  try {
    progress.stage('starting Herald');
    server = await startSoakServer({
      engine: args.engine,
      tokenTtlSeconds,
      profileDir: args.profile,
    });
    const srv = server;
    if (srv.limitsOff.length > 0)
      progress.log(`  Herald limits turned off for the soak: ${srv.limitsOff.join(' ')}`);
    const runId = Math.random().toString(36).slice(2, 8);
    const channels = Array.from({ length: args.channels }, (_, i) => `soak-${runId}-${i}`);
    progress.stage(`minting ${int(channels.length)} tokens`);
    const tokens = await mintTokens(srv, channels, TOPIC);
    const history = await historySettings(srv);
    // Until each channel's history is full (--history-size messages, or --history-ttl), Herald's
    // memory grows by design; "steady" figures are taken from there on.
    const historyFullAtS = Math.min((history.size * args.channels) / args.rate, history.ttlSeconds);
    const paths = tokens.map((t) => `/v1/realtime/connect?token=${t}`);

    // Subscribers, spread over at least two processes.
    progress.stage(`connecting ${int(connections)} subscribers over ${fleets} processes`);
    const fleetProcs = Array.from({ length: fleets }, (_, i) =>
      spawnNode(`soak-subscribers-${i + 1}`, [WORKER], { ipc: true }),
    );
    workers.push(...fleetProcs);
    const shares = fleetProcs.map(
      (_, i) => Math.floor(connections / fleets) + (i < connections % fleets ? 1 : 0),
    );
    const connected = new Array<number>(fleets).fill(0);
    const connectStarted = performance.now();
    const results = await Promise.all(
      fleetProcs.map((p, i) => {
        const options: FleetOptions = {
          host: srv.host,
          port: srv.port,
          paths,
          channels,
          count: shares[i] as number,
          firstIndex: shares.slice(0, i).reduce((a, b) => a + b, 0),
          sources: ctx.sources,
          concurrency: 200,
          timeoutMs: 15_000,
          awayMs: args.awayMs,
        };
        return ask<FleetConnected>(
          p,
          { type: 'fleet-connect', options },
          120_000 + (shares[i] as number) * 5,
          (msg) => {
            if (msg.type !== 'fleet-progress') return;
            connected[i] = (msg as FleetProgress).connected;
            progress.status(`connected ${int(connected.reduce((a, b) => a + b, 0))} / ${int(connections)}`);
          },
        );
      }),
    );
    const connectMs = performance.now() - connectStarted;
    const failed = results.reduce((a, r) => a + r.failed, 0);
    if (failed > 0) {
      const errors = [...new Set(results.flatMap((r) => r.errors))];
      throw new Error(
        `${int(failed)} of ${int(connections)} subscribers could not connect: ${errors.join('; ')}`,
      );
    }
    progress.log(`  ${int(connections)} subscribers connected in ${(connectMs / 1000).toFixed(1)} s`);

    // Idle, every connection open: the "before" memory (after a full GC).
    await sleep(2000);
    const idleBefore = await idleMemory(srv);

    // Publish and churn for the duration, sampling as it goes.
    const publisherProc = spawnNode('soak-publisher', [WORKER], { ipc: true });
    workers.push(publisherProc);
    const pubOptions: PublisherOptions = {
      host: srv.host,
      port: srv.port,
      key: srv.signingKey,
      channels,
      topic: TOPIC,
      rate: args.rate,
      durationMs: args.duration * 1000,
      payloadBytes: PAYLOAD_BYTES,
      sockets: 4,
      window: 64,
    };
    const fleetAsk = <T extends FleetSnapshot | Done | Verified>(
      msg: Record<string, unknown> & { type: string },
    ) => askAll<T>(fleetProcs, msg, 60_000);
    progress.stage(`soak, ${args.duration} s`);
    const t0 = performance.now();
    const sampler = new Sampler(srv, fleetProcs, publisherProc, t0);
    const publishing = ask<Published>(
      publisherProc,
      { type: 'soak-publish', options: pubOptions },
      args.duration * 1000 + 120_000,
    );
    publishing.catch(() => {});
    if (args.churn > 0) await fleetAsk<Done>({ type: 'churn', percent: args.churn });

    const sample = async () => {
      const { sample: x, audit: a } = await sampler.take();
      progress.status(
        `${x.t.toFixed(0)} s: RSS ${(x.rssBytes / 2 ** 20).toFixed(0)} MB, heap ${(x.heapUsedBytes / 2 ** 20).toFixed(0)} MB, ` +
          `${int(x.connections)} conns, ${int(x.deliveriesPerSec)} deliveries/s, p99 ${x.p99Ms.toFixed(1)} ms, ` +
          `${int(x.reconnectsPerSec)} reconnects/s; lost ${a.lost}, dup ${a.duplicated}, reordered ${a.reordered}`,
        x.t >= args.duration - sampleSeconds / 2,
      );
    };
    for (let k = 1; k * sampleSeconds <= args.duration + 1e-9; k++) {
      const wait = t0 + k * sampleSeconds * 1000 - performance.now();
      if (wait > 0) await sleep(wait);
      await sample();
    }
    // Time is up: churn stops with publishing; then wait for the last answers and deliveries.
    if (args.churn > 0) await fleetAsk<Done>({ type: 'churn', percent: 0 });
    progress.stage('waiting for the last publishes');
    const published = await publishing;
    const finals: (Position | null)[] = published.finals;

    progress.stage('quiescence: every subscriber back and caught up');
    const quietStarted = performance.now();
    let verify = sumVerify((await fleetAsk<Verified>({ type: 'verify', finals })).map((v) => v.result));
    let progressAt = performance.now();
    let best = verify.caughtUp;
    while (verify.caughtUp < verify.subscribers && performance.now() - progressAt < 15_000) {
      await sleep(250);
      verify = sumVerify((await fleetAsk<Verified>({ type: 'verify', finals })).map((v) => v.result));
      if (verify.caughtUp > best) {
        best = verify.caughtUp;
        progressAt = performance.now();
      }
      progress.status(
        `${int(verify.caughtUp)} of ${int(verify.subscribers)} caught up, ${int(verify.live)} live`,
      );
    }
    // Anything still arriving would show as a duplicate or a change: let it come.
    await sleep(1000);
    verify = sumVerify((await fleetAsk<Verified>({ type: 'verify', finals })).map((v) => v.result));
    const quiescenceMs = performance.now() - quietStarted;
    const last = await fleetAsk<FleetSnapshot>({ type: 'fleet-snapshot', histogram: false });
    const healthConns = await healthConnections(srv).catch(() => Number.NaN);
    const idleAfter = await idleMemory(srv);
    progress.done();

    // Totals and figures.
    const a = sumAudit(last);
    const closes: Record<string, number> = {};
    for (const s of last) for (const [k, v] of Object.entries(s.closes)) closes[k] = (closes[k] ?? 0) + v;
    const examples = [...new Set(last.flatMap((s) => s.examples))].slice(0, 20);
    const subsOf = (c: number) =>
      Math.floor(connections / args.channels) + (c < connections % args.channels ? 1 : 0);
    const expectedDeliveries = finals.reduce((x, f, c) => x + (f?.seq ?? 0) * subsOf(c), 0);
    const series = sampler.series;
    const measured = series.filter((x) => x.t >= warmupSeconds);
    const startSample = measured[0] ?? series[0];
    const endSample = series[series.length - 1];
    const sem = (key: 'rssBytes' | 'heapUsedBytes') => ({
      start: startSample?.[key] ?? Number.NaN,
      end: endSample?.[key] ?? Number.NaN,
      max: Math.max(...measured.map((x) => x[key]).filter(Number.isFinite)),
    });
    const win = args.quick ? 10 : 60;
    // Steady only if the history filled with at least a few samples to spare before the end.
    const steadySample = series.find((x) => x.t >= Math.max(historyFullAtS, warmupSeconds));
    const steady =
      steadySample && steadySample !== endSample && (endSample?.t ?? 0) - steadySample.t >= 3 * sampleSeconds
        ? {
            fromS: steadySample.t,
            rssBytes: steadySample.rssBytes,
            heapUsedBytes: steadySample.heapUsedBytes,
          }
        : undefined;
    const endT = series.length > 0 ? (series[series.length - 1] as Sample).t : args.duration;
    const summary: SoakSummary = {
      connectMs,
      published: published.counts,
      deliveries: a.deliveries,
      expectedDeliveries,
      replayed: a.replayed,
      leaves: last.reduce((x, s) => x + s.fleet.leaves, 0),
      reconnects: last.reduce((x, s) => x + s.fleet.reconnects, 0),
      reconnectFailures: last.reduce((x, s) => x + s.fleet.reconnectFailures, 0),
      unexpectedCloses: a.unexpectedCloses,
      closes,
      lost: a.lost + verify.missingTail,
      duplicated: a.duplicated,
      reordered: a.reordered,
      epochChanges: a.epochChanges + published.counts.epochChanges,
      wrongChannel: a.wrongChannel,
      unexpectedFrames: a.unexpectedFrames,
      recoveredFalse: a.recoveredFalse,
      final: { ...verify, healthConnections: healthConns, quiescenceMs },
      rssBytes: sem('rssBytes'),
      heapUsedBytes: sem('heapUsedBytes'),
      ...(steady ? { steady } : {}),
      idle: { before: idleBefore, after: idleAfter },
      latency: {
        first: sampler.latency(warmupSeconds, Math.min(endT, warmupSeconds + win)),
        last: sampler.latency(Math.max(warmupSeconds, endT - win), endT),
        whole: sampler.latency(warmupSeconds, endT),
      },
    };

    const params: SoakParams = {
      quick: args.quick,
      durationSeconds: args.duration,
      warmupSeconds,
      sampleSeconds,
      requestedConnections: args.connections,
      connections,
      ...(cappedBy ? { cappedBy } : {}),
      channels: args.channels,
      rate: args.rate,
      churnPercent: args.churn,
      awayMs: args.awayMs,
      history,
      historyFullAtS,
      engine: args.engine,
      payloadBytes: PAYLOAD_BYTES,
      subscriberProcesses: fleets,
      tokenTtlSeconds,
      heraldArgs: srv.args,
      limitsOff: srv.limitsOff,
    };
    const { problems, warnings } = judge(summary, params, series, pubOptions.sockets * pubOptions.window);
    const result: SoakResult = {
      schema: 1,
      kind: 'soak',
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      command: `npm run soak${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      machine: m,
      params,
      series,
      summary,
      problems,
      warnings,
      examples,
      ok: problems.length === 0,
    };
    write(result, args);
    return result.ok ? 0 : 1;
  } finally {
    progress.done();
    await Promise.all(workers.map((p) => stop(p, 3000)));
    await server?.stop();
  }
}

/**
 * Whether a run may replace `soak-latest.*` (the figures the docs quote): the long variant's load,
 * at least its duration, unprofiled. A short or profiled run is written beside it, never over it.
 */
function isReferenceRun(args: Args): boolean {
  const d = DEFAULTS.long;
  return (
    !args.quick &&
    args.profile === undefined &&
    args.engine === 'memory' &&
    args.duration >= d.duration &&
    args.connections === d.connections &&
    args.channels === d.channels &&
    args.rate === d.rate &&
    args.churn === d.churn
  );
}

function write(r: SoakResult, args: Args): void {
  const dir = resolve(args.out ?? join(ROOT, 'bench', 'results'));
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `soak-${stamp(new Date(r.startedAt))}${r.params.quick ? '-quick' : ''}`);
  const name = base.slice(dir.length + 1);
  writeFileSync(`${base}.json`, `${JSON.stringify(r, null, 2)}\n`);
  writeFileSync(`${base}.svg`, renderSoakChart(r));
  writeFileSync(`${base}.md`, renderMarkdown(r, `${name}.svg`));
  const latest = args.out === undefined && isReferenceRun(args);
  if (latest) {
    for (const ext of ['json', 'svg'] as const)
      copyFileSync(`${base}.${ext}`, join(dir, `soak-latest.${ext}`));
    writeFileSync(join(dir, 'soak-latest.md'), renderMarkdown(r, 'soak-latest.svg'));
  }
  process.stdout.write(
    `\n${renderText(r)}\n\nwrote ${base}.{json,svg,md}${latest ? ' and soak-latest.*' : ''}\n`,
  );
}

runMain('soak', main);
