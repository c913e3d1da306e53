/**
 * Scenario 1, fan-out: one channel, N subscribers, 100-byte payloads, publishers keeping a fixed
 * number of publishes in flight for a fixed time. The figure is deliveries per second counted by
 * the subscribers (not by the server) over the measured window, after a warm-up; afterwards the
 * harness waits for the stragglers and checks every accepted message reached every subscriber.
 */
import { stop } from '../lib/procs.js';
import type { RunningTarget } from '../targets.js';
import {
  CpuMeter,
  type LatencySummary,
  latencyOf,
  type RunContext,
  runPublisher,
  SubscriberGroup,
  sleep,
  subTargets,
} from './common.js';

export interface FanoutParams {
  subscribers: number;
  warmupMs: number;
  measureMs: number;
  inflight: number;
  payloadBytes: number;
  /** Every n-th subscriber decodes its messages for latency. */
  sampleEvery: number;
  /** Generator read pacing in ms (see gen/main.ts); adds up to this much to the sampled latency. */
  readPaceMs: number;
}

export interface FanoutResult {
  subscribers: number;
  connected: number;
  connectSeconds: number;
  measuredSeconds: number;
  deliveriesPerSec: number;
  /** Accepted publishes per second over the whole run. */
  publishesPerSec: number;
  publishesOk: number;
  publishesFailed: number;
  /** Messages received after the drain / (accepted publishes × subscribers). */
  delivered: number;
  expected: number;
  completeness: number;
  /** Close codes the subscribers got (4008 = slow consumer). */
  closes: Record<string, number>;
  cpu: {
    server: number;
    generator: number;
    publisher: number;
    machineBusy: number;
    other: number;
    /** Server and generator CPU microseconds per delivered message. */
    serverUsPerDelivery: number;
    generatorUsPerDelivery: number;
  };
  /** Paced: p99 of how long a generator turn worked between sleeps (wall time). */
  generatorLoopDelayP99Ms: number;
  readPaceMs: number;
  latency: LatencySummary | undefined;
}

export async function fanout(ctx: RunContext, t: RunningTarget, p: FanoutParams): Promise<FanoutResult> {
  const label = `${p.subscribers.toLocaleString('en-US')} subscribers`;
  const channel = 'bench-fanout';
  const targets = await subTargets(t, [channel], 't');
  const subs = await SubscriberGroup.open(ctx, targets, p.subscribers, { sampleEvery: p.sampleEvery, label });
  try {
    if (subs.failed > 0)
      throw new Error(
        `${subs.failed} of ${p.subscribers} subscribers failed to connect: ${subs.errors.join('; ')}`,
      );
    await subs.pace(p.readPaceMs);
    const { proc: pub, result } = await runPublisher({
      urls: t.endpoints.map((e) => e.url),
      channels: [channel],
      topic: 't',
      payloadBytes: p.payloadBytes,
      durationMs: p.warmupMs + p.measureMs,
      inflight: p.inflight,
      rate: 0,
    });
    const serverPids = t.procs.map((x) => x.pid);
    const meter = new CpuMeter({ server: serverPids, generator: subs.pids, publisher: [pub.pid] });
    ctx.progress.status(`${label}: warming up`);
    await sleep(p.warmupMs);
    const before = await subs.snapshot(true);
    meter.restart();
    const t0 = performance.now();
    // Bounded: the window is a fixed time, with a status line every half second.
    const end = t0 + p.measureMs;
    while (performance.now() < end) {
      await sleep(Math.min(500, end - performance.now()));
      const s = await subs.snapshot();
      const rate = (s.received - before.received) / ((performance.now() - t0) / 1000);
      ctx.progress.status(`${label}: ${Math.round(rate).toLocaleString('en-US')} deliveries/s`);
    }
    const after = await subs.snapshot(true);
    const cpu = meter.stop();
    const seconds = (performance.now() - t0) / 1000;
    const published = await result;
    await stop(pub, 1000);
    ctx.progress.status(`${label}: draining`);
    const expected = published.ok * subs.connected;
    const drained = await subs.drain(1000, 15_000, expected);
    const deliveries = after.received - before.received;
    return {
      subscribers: p.subscribers,
      connected: subs.connected,
      connectSeconds: subs.connectMs / 1000,
      measuredSeconds: seconds,
      deliveriesPerSec: deliveries / seconds,
      publishesPerSec: published.ok / (published.ms / 1000),
      publishesOk: published.ok,
      publishesFailed: published.failed,
      delivered: drained.received,
      expected,
      completeness: expected > 0 ? drained.received / expected : 0,
      closes: drained.closes,
      cpu: {
        server: cpu.cores.server ?? 0,
        generator: cpu.cores.generator ?? 0,
        publisher: cpu.cores.publisher ?? 0,
        machineBusy: cpu.machineBusyCores,
        other: cpu.otherCores,
        serverUsPerDelivery: deliveries > 0 ? ((cpu.cores.server ?? 0) * seconds * 1e6) / deliveries : 0,
        generatorUsPerDelivery:
          deliveries > 0 ? ((cpu.cores.generator ?? 0) * seconds * 1e6) / deliveries : 0,
      },
      generatorLoopDelayP99Ms: after.loopDelayP99Ms,
      readPaceMs: p.readPaceMs,
      latency: latencyOf(after.histogram),
    };
  } finally {
    await subs.close();
  }
}
