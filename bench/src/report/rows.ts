/**
 * Results → the rows every report shows (terminal, Markdown, docs): one row per figure, one cell
 * per server, and the ratios Herald / naive ws and Herald / Socket.IO.
 */
import type { Results, Run } from '../results.js';
import { SDK_CLIENTS, type SdkClientResult, type SdkReadFigures, type SdkResult } from '../scenarios/sdk.js';
import type { TargetId } from '../targets.js';

export type Cell = number | 'failed' | 'not yet' | undefined;

export interface Row {
  section: string;
  metric: string;
  better: 'higher' | 'lower';
  /** Decimals to print. */
  digits: number;
  cells: Partial<Record<TargetId, Cell>>;
}

export const COLUMNS: TargetId[] = ['naive-ws', 'socketio', 'herald-memory', 'herald-redis'];
export const HERALD: TargetId = 'herald-memory';

const int = (n: number) => n.toLocaleString('en-US');

function cellsFor<R>(
  results: Results,
  runs: Run[],
  pick: (r: R) => number | undefined,
): Partial<Record<TargetId, Cell>> {
  const cells: Partial<Record<TargetId, Cell>> = {};
  for (const t of results.targets) if (t.unavailable) cells[t.id] = 'not yet';
  for (const r of runs) cells[r.target] = r.ok && r.result ? pick(r.result as R) : 'failed';
  return cells;
}

export function buildRows(results: Results): Row[] {
  const rows: Row[] = [];
  const by = (scenario: Run['scenario']) => results.runs.filter((r) => r.scenario === scenario);
  const cases = (runs: Run[]) => [...new Set(runs.map((r) => r.case))];

  const fan = by('fanout');
  for (const c of cases(fan)) {
    const runs = fan.filter((r) => r.case === c);
    rows.push({
      section: `Fan-out, 1 channel × ${int(Number(c))} subscribers`,
      metric: 'deliveries/s',
      better: 'higher',
      digits: 0,
      cells: cellsFor(results, runs, (r: { deliveriesPerSec: number }) => r.deliveriesPerSec),
    });
  }

  const lat = by('latency');
  for (const c of cases(lat)) {
    const runs = lat.filter((r) => r.case === c);
    const first = runs.find((r) => r.ok)?.result as
      | { subscribers: number; channels: number; offeredPerSec: number }
      | undefined;
    const section = first
      ? `Latency, ${int(first.subscribers)} subscribers on ${first.channels} channels, ${int(first.offeredPerSec)} msg/s`
      : `Latency, ${int(Number(c))} subscribers`;
    for (const [metric, key] of [
      ['p50 ms', 'p50Ms'],
      ['p99 ms', 'p99Ms'],
      ['p99.9 ms', 'p999Ms'],
    ] as const)
      rows.push({
        section,
        metric,
        better: 'lower',
        digits: 2,
        cells: cellsFor(results, runs, (r: { latency?: Record<string, number> }) => r.latency?.[key]),
      });
  }

  const mem = by('memory');
  const levelCount = Math.max(
    0,
    ...mem.map((r) => (r.ok && r.result ? (r.result as { levels: unknown[] }).levels.length : 0)),
  );
  for (let i = 0; i < levelCount; i++) {
    type L = {
      levels: { connections: number; requested: number; rssPerConnBytes: number; heapPerConnBytes: number }[];
    };
    const levels = mem.flatMap((r) => {
      const l = r.ok && r.result ? (r.result as L).levels[i] : undefined;
      return l ? [{ target: r.target, ...l }] : [];
    });
    const first = levels[0];
    const others = levels.filter((l) => first && l.connections !== first.connections);
    const labelOf = (id: TargetId) => results.targets.find((t) => t.id === id)?.label ?? id;
    const notes: string[] = [];
    for (const o of others) notes.push(`${labelOf(o.target)}: ${int(o.connections)}`);
    if (first && first.connections < first.requested)
      notes.push(`${int(first.requested)} requested, capped at the fd limit`);
    const section = `Memory, ${first ? int(first.connections) : '?'} idle subscribed connections${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`;
    rows.push({
      section,
      metric: 'RSS KB/connection',
      better: 'lower',
      digits: 1,
      cells: cellsFor(results, mem, (r: L) => {
        const l = r.levels[i];
        return l ? l.rssPerConnBytes / 1024 : undefined;
      }),
    });
    rows.push({
      section,
      metric: 'heap KB/connection',
      better: 'lower',
      digits: 1,
      cells: cellsFor(results, mem, (r: L) => {
        const l = r.levels[i];
        return l ? l.heapPerConnBytes / 1024 : undefined;
      }),
    });
  }

  const pub = by('publish');
  for (const c of cases(pub)) {
    rows.push({
      section: `Publish, HTTP keep-alive, ${c} connections`,
      metric: 'requests/s',
      better: 'higher',
      digits: 0,
      cells: cellsFor(
        results,
        pub.filter((r) => r.case === c),
        (r: { requestsPerSec: number }) => r.requestsPerSec,
      ),
    });
  }

  const rec = by('recovery');
  for (const c of cases(rec)) {
    const runs = rec.filter((r) => r.case === c);
    type R = { medianMs: number; maxMs: number; repetitions: unknown[] };
    const first = runs.find((r) => r.ok && r.result)?.result as R | undefined;
    const section = `Recovery, replay of ${int(Number(c))} missed messages on reconnect (median of ${first?.repetitions.length ?? '?'})`;
    rows.push({
      section,
      metric: 'ms from upgrade request to the last message',
      better: 'lower',
      digits: 1,
      cells: cellsFor(results, runs, (r: R) => r.medianMs),
    });
    rows.push({
      section,
      metric: 'slowest repetition ms',
      better: 'lower',
      digits: 1,
      cells: cellsFor(results, runs, (r: R) => r.maxMs),
    });
  }
  return rows;
}

/** A figure of scenario 6: one cell per SDK client, and the ratio @herald/realtime / 0.4.7. */
export interface SdkRow {
  section: string;
  metric: string;
  better: 'higher' | 'lower';
  digits: number;
  herald: Cell;
  inngest: Cell;
}

export const SDK_LABELS = {
  herald: SDK_CLIENTS.find((c) => c.id === 'herald')?.label ?? 'herald',
  inngest: SDK_CLIENTS.find((c) => c.id === 'inngest-0.4.7')?.label ?? 'inngest-0.4.7',
};

function sdkRun(results: Results): (Run & { scenario: 'sdk' }) | undefined {
  return results.runs.find((r): r is Run & { scenario: 'sdk' } => r.scenario === 'sdk');
}

export function buildSdkRows(results: Results): SdkRow[] {
  const run = sdkRun(results);
  if (!run) return [];
  const res = run.ok ? run.result : undefined;
  const of = (id: SdkClientResult['client']) => res?.clients.find((c) => c.client === id);
  const cell = (id: SdkClientResult['client'], pick: (c: SdkClientResult) => Cell): Cell => {
    if (!res) return 'failed';
    const c = of(id);
    return c ? pick(c) : undefined;
  };
  const rows: SdkRow[] = [];
  const add = (
    section: string,
    metric: string,
    better: SdkRow['better'],
    digits: number,
    pick: (c: SdkClientResult) => Cell,
  ) =>
    rows.push({
      section,
      metric,
      better,
      digits,
      herald: cell('herald', pick),
      inngest: cell('inngest-0.4.7', pick),
    });
  const p = res?.params;
  const n = (k: 'live' | 'backlog' | 'unread') => (p ? int(p[k]) : '?');
  /** A read that did not get every message shows as failed (the error is in the run's problems). */
  const read = (f: SdkReadFigures | undefined, v: (f: SdkReadFigures) => number): Cell =>
    f === undefined ? undefined : f.error !== undefined ? 'failed' : v(f);
  const live = `SDK, live: ${n('live')} messages published as fast as Herald accepts them`;
  add(live, 'messages/s read', 'higher', 0, (c) => read(c.live, (f) => f.msgsPerSec));
  add(live, 'client CPU µs/message', 'lower', 2, (c) => read(c.live, (f) => f.cpuUsPerMsg));
  const backlog = `SDK, backlog: ${n('backlog')} messages queued while the client was stopped, then read`;
  add(backlog, 'messages/s read, client-bound', 'higher', 0, (c) => read(c.backlog, (f) => f.msgsPerSec));
  add(backlog, 'client CPU µs/message', 'lower', 2, (c) => read(c.backlog, (f) => f.cpuUsPerMsg));
  const unread = `SDK, unread stream: ${n('unread')} messages arrive, nobody reads`;
  add(unread, 'heap growth MB', 'lower', 1, (c) => (c.unread ? c.unread.growthBytes / 2 ** 20 : undefined));
  add(unread, 'heap growth over the second half MB', 'lower', 1, (c) =>
    c.unread ? c.unread.secondHalfGrowthBytes / 2 ** 20 : undefined,
  );
  return rows;
}

/** What the SDK table cannot show: where the live pace came from, what the unread streams held. */
export function buildSdkNotes(results: Results): string[] {
  const run = sdkRun(results);
  const res = run?.ok ? (run.result as SdkResult | undefined) : undefined;
  if (!res) return [];
  const label = (id: SdkClientResult['client']) => SDK_CLIENTS.find((c) => c.id === id)?.label ?? id;
  const out: string[] = [];
  for (const c of res.clients) {
    const l = c.live;
    if (l?.cores)
      out.push(
        `live · ${label(c.client)}: Herald accepted ${Math.round(l.publishesPerSec ?? 0).toLocaleString('en-US')} publishes/s; ` +
          `cores: server ${l.cores.server.toFixed(2)}, publisher ${l.cores.publisher.toFixed(2)}, client ${l.cores.client.toFixed(2)}, others ${l.cores.other.toFixed(2)}`,
      );
  }
  // A live client far from a full core spent its time waiting for messages: it was not the bottleneck.
  const paced = res.clients.filter((c) => c.live?.cores && c.live.cores.client < 0.8);
  if (paced.length > 0)
    out.push(
      `live: ${paced.map((c) => `${label(c.client)} (${c.live?.cores?.client.toFixed(2)} cores)`).join(' and ')} ` +
        'mostly waited for messages: there messages/s is the pace at which Herald accepted publishes on this machine, ' +
        'not the client’s limit; client CPU per message and the backlog figures are the clients’ own',
    );
  for (const c of res.clients) {
    const u = c.unread;
    if (u)
      out.push(
        `unread · ${label(c.client)}: heap ${(u.heapBaselineBytes / 2 ** 20).toFixed(1)} → ${(u.heapHalfBytes / 2 ** 20).toFixed(1)} → ${(u.heapEndBytes / 2 ** 20).toFixed(1)} MB ` +
          `(after 0, ${int(Math.floor(u.messages / 2))}, ${int(u.messages)} messages); read afterwards, the stream delivered ${int(u.held)} messages, then: ${u.ending}`,
      );
  }
  return out;
}

export function sdkRatio(r: SdkRow): number | undefined {
  return typeof r.herald === 'number' && typeof r.inngest === 'number' && r.inngest > 0
    ? r.herald / r.inngest
    : undefined;
}

export function ratio(row: Row, of: TargetId, to: TargetId): number | undefined {
  const a = row.cells[of];
  const b = row.cells[to];
  return typeof a === 'number' && typeof b === 'number' && b > 0 ? a / b : undefined;
}

export function formatCell(c: Cell, digits: number): string {
  if (c === undefined) return '—';
  if (typeof c === 'string') return c;
  return c.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export const formatRatio = (r: number | undefined): string => (r === undefined ? '—' : `${r.toFixed(2)}×`);

export interface CpuRow {
  run: string;
  target: string;
  serverCores: number;
  generatorCores: number;
  /** Generator CPU / server CPU. */
  share: number;
  serverUsPerMsg?: number;
  generatorUsPerMsg?: number;
  otherCores: number;
  completeness: number;
  closes: string;
  /** Generator event-loop delay p99 (unpaced runs), or the read pacing (fan-out). */
  loop: string;
}

/** What a reader must know to trust a figure: lost messages, forced closes, skipped publishes. */
export function buildWarnings(results: Results): string[] {
  const label = (id: TargetId) => results.targets.find((t) => t.id === id)?.label ?? id;
  const out: string[] = [];
  for (const r of results.runs) {
    if (!r.ok || !r.result) continue;
    const where = `${r.scenario} ${r.case} · ${label(r.target)}`;
    if (r.scenario === 'fanout' || r.scenario === 'latency') {
      const x = r.result;
      if (x.completeness < 0.9999)
        out.push(`${where}: ${(x.completeness * 100).toFixed(2)}% of the expected messages arrived`);
      if (x.completeness > 1.0001)
        out.push(
          `${where}: more messages arrived than publishes were acknowledged (${(x.completeness * 100).toFixed(1)}%): ` +
            'some publishes were still unanswered when the publisher stopped',
        );
      const closes = Object.entries(x.closes);
      if (closes.length > 0)
        out.push(
          `${where}: connections closed by the server: ${closes.map(([k, v]) => `${v} × ${k}`).join(', ')}`,
        );
    }
    if (r.scenario === 'latency' && r.result.publishesSkipped > 0)
      out.push(
        `${where}: the publisher skipped ${r.result.publishesSkipped} of ${r.result.publishesSkipped + r.result.publishesOk} ` +
          'scheduled publishes (too many outstanding): the server did not keep up with the offered rate',
      );
    if (r.scenario === 'publish' && (r.result.non2xx > 0 || r.result.errors > 0))
      out.push(`${where}: ${r.result.non2xx} non-2xx answers, ${r.result.errors} errors`);
  }
  return out;
}

/** Load generator vs server CPU, per fan-out and latency run. */
export function buildCpuRows(results: Results): CpuRow[] {
  const label = (id: TargetId) => results.targets.find((t) => t.id === id)?.label ?? id;
  const out: CpuRow[] = [];
  for (const r of results.runs) {
    if (!r.ok || !r.result) continue;
    if (r.scenario === 'publish') {
      const x = r.result;
      const seconds = x.ok / Math.max(1, x.requestsPerSec);
      out.push({
        run: `publish ${r.case} (autocannon)`,
        target: label(r.target),
        serverCores: x.cpu.server,
        generatorCores: x.cpu.loadTool,
        share: x.cpu.server > 0 ? x.cpu.loadTool / x.cpu.server : 0,
        serverUsPerMsg: x.ok > 0 ? (x.cpu.server * seconds * 1e6) / x.ok : 0,
        generatorUsPerMsg: x.ok > 0 ? (x.cpu.loadTool * seconds * 1e6) / x.ok : 0,
        otherCores: x.cpu.other,
        completeness: x.ok / Math.max(1, x.ok + x.non2xx + x.errors),
        closes: '—',
        loop: '—',
      });
      continue;
    }
    if (r.scenario === 'fanout' || r.scenario === 'latency') {
      const x = r.result;
      const gen = x.cpu.generator + x.cpu.publisher;
      const closes = Object.entries(x.closes)
        .map(([k, v]) => `${k}×${v}`)
        .join(' ');
      out.push({
        run: r.scenario === 'fanout' ? `fan-out ${int(Number(r.case))}` : `latency ${int(Number(r.case))}`,
        target: label(r.target),
        serverCores: x.cpu.server,
        generatorCores: gen,
        share: x.cpu.server > 0 ? gen / x.cpu.server : 0,
        ...(r.scenario === 'fanout'
          ? {
              serverUsPerMsg: r.result.cpu.serverUsPerDelivery,
              generatorUsPerMsg: r.result.cpu.generatorUsPerDelivery,
            }
          : {}),
        otherCores: x.cpu.other,
        completeness: x.completeness,
        closes: closes || 'none',
        loop:
          r.scenario === 'fanout'
            ? `paced ${r.result.readPaceMs ?? '?'} ms`
            : `${x.generatorLoopDelayP99Ms.toFixed(1)} ms`,
      });
    }
  }
  return out;
}

export interface TargetCheck {
  goal: string;
  value: string;
  met: boolean | undefined;
}

/** The goals issue 7 sets for Herald, checked against this run's figures. */
export function buildTargetChecks(results: Results): TargetCheck[] {
  const rows = buildRows(results);
  const out: TargetCheck[] = [];
  const check = (
    goal: string,
    r: number | undefined,
    ok: (v: number) => boolean,
    fmt: (v: number) => string,
  ) =>
    out.push({
      goal,
      value: r === undefined ? 'not measured' : fmt(r),
      met: r === undefined ? undefined : ok(r),
    });
  const x = (v: number) => `${v.toFixed(2)}×`;
  for (const r of rows.filter((r) => r.section.startsWith('Fan-out'))) {
    const n = /× ([\d,]+)/.exec(r.section)?.[1] ?? '';
    check(`fan-out ${n}: Herald ≥ 2× naive ws`, ratio(r, HERALD, 'naive-ws'), (v) => v >= 2, x);
    check(`fan-out ${n}: Herald ≥ 3× Socket.IO`, ratio(r, HERALD, 'socketio'), (v) => v >= 3, x);
    check(`fan-out ${n}: Redis 3 nodes ≥ 0.7× memory`, ratio(r, 'herald-redis', HERALD), (v) => v >= 0.7, x);
  }
  const p99 = rows.find((r) => r.section.startsWith('Latency') && r.metric === 'p99 ms');
  if (p99) check('latency p99: Herald ≤ 0.5× naive ws', ratio(p99, HERALD, 'naive-ws'), (v) => v <= 0.5, x);
  const rss = rows.filter((r) => r.section.startsWith('Memory') && r.metric.startsWith('RSS')).at(-1);
  if (rss) {
    const v = rss.cells[HERALD];
    const conns = /Memory, ([\d,]+)/.exec(rss.section)?.[1] ?? '?';
    check(
      `memory: Herald ≤ 6 KB RSS per idle connection (at ${conns})`,
      typeof v === 'number' ? v : undefined,
      (k) => k <= 6,
      (k) => `${k.toFixed(1)} KB`,
    );
  }
  const pub = rows.find((r) => r.section.startsWith('Publish'));
  if (pub) {
    const v = pub.cells[HERALD];
    check(
      'publish: Herald ≥ 20,000 requests/s',
      typeof v === 'number' ? v : undefined,
      (k) => k >= 20_000,
      (k) => `${Math.round(k).toLocaleString('en-US')}/s`,
    );
  }
  const sdk = buildSdkRows(results);
  const backlogRate = sdk.find(
    (r) => r.section.startsWith('SDK, backlog') && r.metric.startsWith('messages/s'),
  );
  if (backlogRate)
    check(
      'SDK: @herald/realtime ≥ 3× 0.4.7, messages/s read when the client is the bottleneck (backlog)',
      sdkRatio(backlogRate),
      (v) => v >= 3,
      x,
    );
  const liveCpu = sdk.find((r) => r.section.startsWith('SDK, live') && r.metric.startsWith('client CPU'));
  if (liveCpu) {
    const inv = sdkRatio(liveCpu);
    check(
      'SDK: @herald/realtime ≥ 3× 0.4.7, messages per client CPU-second (live)',
      inv === undefined || inv === 0 ? undefined : 1 / inv,
      (v) => v >= 3,
      x,
    );
  }
  const flat = sdk.find((r) => r.section.startsWith('SDK, unread') && r.metric.includes('second half'));
  if (flat) {
    const mb = typeof flat.herald === 'number' ? flat.herald : undefined;
    const theirs = typeof flat.inngest === 'number' ? `; 0.4.7: +${flat.inngest.toFixed(1)} MB` : '';
    check(
      `SDK: flat heap with an unread stream (@herald/realtime: ≤ ${SDK_FLAT_MB} MB growth over the second half)`,
      mb,
      (v) => v <= SDK_FLAT_MB,
      (v) => `${v >= 0 ? '+' : ''}${v.toFixed(2)} MB${theirs}`,
    );
  }
  for (const r of rows.filter((r) => r.section.startsWith('Recovery') && r.metric.startsWith('ms from'))) {
    for (const [id, name] of [
      [HERALD, 'memory'],
      ['herald-redis', 'Redis'],
    ] as const) {
      const v = r.cells[id];
      if (v === undefined || v === 'not yet') continue;
      check(
        `recovery: replay of 1,000 missed messages < 100 ms (${name}, median)`,
        typeof v === 'number' ? v : undefined,
        (k) => k < 100,
        (k) => `${k.toFixed(1)} ms`,
      );
    }
  }
  return out;
}

/** "Flat": what an unread @herald/realtime stream may add to the heap over the second half of the messages. */
export const SDK_FLAT_MB = 1;

export const metLabel = (m: boolean | undefined): string => (m === undefined ? '—' : m ? 'met' : 'not met');
