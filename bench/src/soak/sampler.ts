/**
 * Samples the soak as it runs: Herald's RSS (/proc), heap (/metrics) and connections (/health),
 * and over each interval the subscribers' deliveries, replays, reconnects and latency histogram,
 * the publisher's acknowledgements, and the CPU of every process (and of the machine: what the
 * soak does not account for is other people's work). The interval histograms are kept, so latency
 * can be read over any window afterwards.
 */
import { readdirSync } from 'node:fs';
import * as hdr from 'hdr-histogram-js';
import { cpuSeconds, machineCpu, type Proc, rssBytes } from '../lib/procs.js';
import { type AuditCounts, ask, askAll, type FleetSnapshot, type PublisherSnapshot } from './ipc.js';
import type { LatencyWindow, Sample } from './result.js';
import { healthConnections, metricsHeap, type SoakServer } from './server.js';

/** Latencies up to one minute, in microseconds, 3 significant digits (as the workers record them). */
const newHistogram = () =>
  hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });

export function sumAudit(snaps: FleetSnapshot[]): AuditCounts {
  const out: AuditCounts = {
    deliveries: 0,
    replayed: 0,
    lost: 0,
    duplicated: 0,
    reordered: 0,
    epochChanges: 0,
    wrongChannel: 0,
    unexpectedFrames: 0,
    recoveredFalse: 0,
    unexpectedCloses: 0,
  };
  for (const s of snaps) for (const k of Object.keys(out) as (keyof AuditCounts)[]) out[k] += s.audit[k];
  return out;
}

interface Reading {
  at: number;
  deliveries: number;
  replayed: number;
  reconnects: number;
  ok: number;
  herald: number;
  subscribers: number;
  publisher: number;
  machine: number;
  self: NodeJS.CpuUsage;
}

/** Open file descriptors of a process; NaN if it cannot be read. */
function openFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return Number.NaN;
  }
}

const cpuOf = (ps: Proc[]) => ps.reduce((x, p) => x + cpuSeconds(p.pid), 0);

export class Sampler {
  readonly series: Sample[] = [];
  private readonly hists: { t: number; h: string }[] = [];
  private prev: Reading;

  constructor(
    private readonly srv: SoakServer,
    private readonly fleets: Proc[],
    private readonly publisher: Proc,
    private readonly t0: number,
  ) {
    this.prev = {
      at: t0,
      deliveries: 0,
      replayed: 0,
      reconnects: 0,
      ok: 0,
      herald: cpuSeconds(srv.herald.pid),
      subscribers: cpuOf(fleets),
      publisher: cpuOf([publisher]),
      machine: machineCpu().busy,
      self: process.cpuUsage(),
    };
  }

  /** Takes a sample (memory now, rates and latency since the last one). */
  async take(): Promise<{ sample: Sample; audit: AuditCounts }> {
    const snaps = await askAll<FleetSnapshot>(
      this.fleets,
      { type: 'fleet-snapshot', histogram: true },
      60_000,
    );
    const pub = await ask<PublisherSnapshot>(this.publisher, { type: 'pub-snapshot' }, 30_000);
    const p = this.prev;
    const now: Reading = {
      at: performance.now(),
      ...sumAudit(snaps),
      reconnects: snaps.reduce((x, s) => x + s.fleet.reconnects, 0),
      ok: pub.counts.ok,
      herald: cpuSeconds(this.srv.herald.pid),
      subscribers: cpuOf(this.fleets),
      publisher: cpuOf([this.publisher]),
      machine: machineCpu().busy,
      self: process.cpuUsage(),
    };
    const [heap, conns] = await Promise.all([
      metricsHeap(this.srv).catch(() => Number.NaN),
      healthConnections(this.srv).catch(() => Number.NaN),
    ]);
    const t = (now.at - this.t0) / 1000;
    const secs = (now.at - p.at) / 1000;
    const rate = (a: number, b: number) => (a - b) / secs;
    const merged = newHistogram();
    for (const s of snaps) if (s.histogram) merged.add(hdr.decodeFromCompressedBase64(s.histogram));
    this.hists.push({ t, h: hdr.encodeIntoCompressedBase64(merged) });
    const n = merged.totalCount;
    const selfCores = (now.self.user + now.self.system - p.self.user - p.self.system) / 1e6 / secs;
    const sample: Sample = {
      t: Math.round(t * 10) / 10,
      rssBytes: rssBytes(this.srv.herald.pid),
      heapUsedBytes: heap,
      connections: conns,
      heraldFds: openFds(this.srv.herald.pid),
      live: snaps.reduce((v, s) => v + s.fleet.live, 0),
      deliveriesPerSec: rate(now.deliveries, p.deliveries),
      replayedPerSec: rate(now.replayed, p.replayed),
      reconnectsPerSec: rate(now.reconnects, p.reconnects),
      publishedPerSec: rate(now.ok, p.ok),
      publishFailed: pub.counts.failed,
      publishSkipped: pub.counts.skipped,
      p50Ms: n > 0 ? merged.getValueAtPercentile(50) / 1000 : Number.NaN,
      p99Ms: n > 0 ? merged.getValueAtPercentile(99) / 1000 : Number.NaN,
      maxMs: n > 0 ? merged.maxValue / 1000 : Number.NaN,
      latencyCount: n,
      heraldCores: rate(now.herald, p.herald),
      subscriberCores: rate(now.subscribers, p.subscribers),
      publisherCores: rate(now.publisher, p.publisher),
      machineCores: rate(now.machine, p.machine),
      otherCores: 0,
      workerLoopDelayP99Ms: Math.max(...snaps.map((s) => s.loopDelayP99Ms)),
    };
    sample.otherCores = Math.max(
      0,
      sample.machineCores - sample.heraldCores - sample.subscriberCores - sample.publisherCores - selfCores,
    );
    this.series.push(sample);
    this.prev = now;
    return { sample, audit: sumAudit(snaps) };
  }

  /** Latency of live deliveries over the intervals that ended in (fromS, toS]. */
  latency(fromS: number, toS: number): LatencyWindow {
    const merged = newHistogram();
    for (const x of this.hists)
      if (x.t > fromS && x.t <= toS + 1e-6) merged.add(hdr.decodeFromCompressedBase64(x.h));
    const n = merged.totalCount;
    const at = (q: number) => (n > 0 ? merged.getValueAtPercentile(q) / 1000 : Number.NaN);
    return {
      fromS,
      toS,
      count: n,
      p50Ms: at(50),
      p99Ms: at(99),
      maxMs: n > 0 ? merged.maxValue / 1000 : Number.NaN,
    };
  }
}
