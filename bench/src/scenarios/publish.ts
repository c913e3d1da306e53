/**
 * Scenario 5, publish: HTTP publish requests per second over keep-alive connections, measured by
 * autocannon (its own process), to a channel with no subscriber, so the figure is the publish path
 * alone: HTTP parsing, validation, encoding, sequencing, history.
 */
import { createRequire } from 'node:module';
import { payload } from '../gen/publisher.js';
import { spawnNode, stop } from '../lib/procs.js';
import type { RunningTarget } from '../targets.js';
import { CpuMeter, type RunContext } from './common.js';

const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon');

export interface PublishParams {
  connections: number;
  durationSeconds: number;
  payloadBytes: number;
}

export interface PublishScenarioResult {
  connections: number;
  requestsPerSec: number;
  ok: number;
  non2xx: number;
  errors: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  cpu: { server: number; loadTool: number; machineBusy: number; other: number };
}

interface AutocannonJson {
  duration: number;
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latency: { p50: number; p99: number };
}

export async function publishRate(
  ctx: RunContext,
  t: RunningTarget,
  p: PublishParams,
): Promise<PublishScenarioResult> {
  const base = t.endpoints[0]?.url;
  if (base === undefined) throw new Error('target has no endpoint');
  const url = `${base}/v1/realtime/publish?channel=bench-publish&topic=t`;
  const ac = spawnNode('autocannon', [
    AUTOCANNON,
    '-c',
    String(p.connections),
    '-d',
    String(p.durationSeconds),
    '-m',
    'POST',
    '-H',
    'content-type=application/json',
    '-b',
    payload(Date.now(), p.payloadBytes),
    '-j',
    '-n',
    url,
  ]);
  const meter = new CpuMeter({ server: t.procs.map((x) => x.pid), loadTool: [ac.pid] });
  const until = performance.now() + p.durationSeconds * 1000;
  // CPU is measured from 0.3 s in to 0.3 s before the end, while autocannon is surely running
  // (once it exits, its /proc entry and CPU time are gone).
  let cpu: ReturnType<CpuMeter['stop']> | undefined;
  const margin = Math.min(300, (p.durationSeconds * 1000) / 4);
  const startMeter = setTimeout(() => meter.restart(), margin);
  const stopMeter = setTimeout(
    () => {
      cpu = meter.stop();
    },
    p.durationSeconds * 1000 - margin,
  );
  const timer = setInterval(() => {
    ctx.progress.status(
      `autocannon, ${p.connections} connections: ${Math.max(0, Math.ceil((until - performance.now()) / 1000))} s left`,
    );
  }, 500);
  let code: number | string;
  try {
    code = await Promise.race([
      ac.exited,
      new Promise<string>((r) => setTimeout(() => r('timeout'), p.durationSeconds * 1000 + 30_000)),
    ]);
  } finally {
    clearInterval(timer);
    clearTimeout(startMeter);
    clearTimeout(stopMeter);
  }
  cpu ??= meter.stop();
  await stop(ac, 1000);
  const line = [...ac.out].reverse().find((l) => l.startsWith('{'));
  if (code !== 0 || line === undefined) throw new Error(`autocannon failed (${code}):\n${ac.tail()}`);
  const r = JSON.parse(line) as AutocannonJson;
  return {
    connections: p.connections,
    requestsPerSec: r['2xx'] / r.duration,
    ok: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    latencyP50Ms: r.latency.p50,
    latencyP99Ms: r.latency.p99,
    cpu: {
      server: cpu.cores.server ?? 0,
      loadTool: cpu.cores.loadTool ?? 0,
      machineBusy: cpu.machineBusyCores,
      other: cpu.otherCores,
    },
  };
}
