/**
 * Scenario 2, latency: N subscribers spread over C channels, publishes offered at a fixed rate
 * (open loop, round-robin over the channels), publish-to-receive latency from the timestamp in each
 * payload, sampled on every n-th subscriber into an HDR histogram. The timestamp is the time the
 * publish was *scheduled*, so a server (or publisher) that falls behind shows it as latency instead
 * of hiding it (coordinated omission).
 */
import { stop } from '../lib/procs.js';
import type { RunningTarget } from '../targets.js';
import {
  CpuMeter,
  channelNames,
  type LatencySummary,
  latencyOf,
  type RunContext,
  runPublisher,
  SubscriberGroup,
  sleep,
  subTargets,
} from './common.js';

export interface LatencyParams {
  subscribers: number;
  channels: number;
  ratePerSec: number;
  warmupMs: number;
  measureMs: number;
  payloadBytes: number;
  sampleEvery: number;
  /** Most publishes outstanding; past it the publisher skips (and reports it). */
  maxInflight: number;
}

export interface LatencyResult {
  subscribers: number;
  channels: number;
  offeredPerSec: number;
  publishesOk: number;
  publishesSkipped: number;
  publishesFailed: number;
  deliveriesPerSec: number;
  completeness: number;
  closes: Record<string, number>;
  latency: LatencySummary | undefined;
  cpu: { server: number; generator: number; publisher: number; machineBusy: number; other: number };
  generatorLoopDelayP99Ms: number;
}

export async function latency(ctx: RunContext, t: RunningTarget, p: LatencyParams): Promise<LatencyResult> {
  const label = `${p.subscribers.toLocaleString('en-US')} subscribers, ${p.ratePerSec} msg/s`;
  const channels = channelNames('bench-latency', p.channels);
  const targets = await subTargets(t, channels, 't');
  const subs = await SubscriberGroup.open(ctx, targets, p.subscribers, { sampleEvery: p.sampleEvery, label });
  try {
    if (subs.failed > 0)
      throw new Error(
        `${subs.failed} of ${p.subscribers} subscribers failed to connect: ${subs.errors.join('; ')}`,
      );
    const { proc: pub, result } = await runPublisher({
      urls: t.endpoints.map((e) => e.url),
      channels,
      topic: 't',
      payloadBytes: p.payloadBytes,
      durationMs: p.warmupMs + p.measureMs,
      inflight: p.maxInflight,
      rate: p.ratePerSec,
    });
    const meter = new CpuMeter({
      server: t.procs.map((x) => x.pid),
      generator: subs.pids,
      publisher: [pub.pid],
    });
    ctx.progress.status(`${label}: warming up`);
    await sleep(p.warmupMs);
    const before = await subs.snapshot(true); // drops the warm-up samples
    meter.restart();
    const t0 = performance.now();
    const end = t0 + p.measureMs;
    while (performance.now() < end) {
      await sleep(Math.min(500, end - performance.now()));
      ctx.progress.status(`${label}: measuring, ${Math.ceil((end - performance.now()) / 1000)} s left`);
    }
    const after = await subs.snapshot(true);
    const cpu = meter.stop();
    const seconds = (performance.now() - t0) / 1000;
    const published = await result;
    await stop(pub, 1000);
    // Each publish goes to one channel: subscribers / channels receive it.
    const perChannel = p.subscribers / p.channels;
    const expected = published.ok * perChannel;
    const drained = await subs.drain(1000, 15_000, expected);
    return {
      subscribers: p.subscribers,
      channels: p.channels,
      offeredPerSec: p.ratePerSec,
      publishesOk: published.ok,
      publishesSkipped: published.skipped,
      publishesFailed: published.failed,
      deliveriesPerSec: (after.received - before.received) / seconds,
      completeness: expected > 0 ? drained.received / expected : 0,
      closes: drained.closes,
      latency: latencyOf(after.histogram),
      cpu: {
        server: cpu.cores.server ?? 0,
        generator: cpu.cores.generator ?? 0,
        publisher: cpu.cores.publisher ?? 0,
        machineBusy: cpu.machineBusyCores,
        other: cpu.otherCores,
      },
      generatorLoopDelayP99Ms: after.loopDelayP99Ms,
    };
  } finally {
    await subs.close();
  }
}
