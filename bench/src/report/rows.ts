/**
 * Results → the rows every report shows (terminal, Markdown, docs): one row per figure, one cell
 * per server, and the ratios Herald / naive ws and Herald / Socket.IO.
 */
import type { Results, Run } from '../results.js';
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
  return rows;
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
  return out;
}

export const metLabel = (m: boolean | undefined): string => (m === undefined ? '—' : m ? 'met' : 'not met');
