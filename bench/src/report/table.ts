/** The results as aligned text tables for the terminal. */
import type { Results } from '../results.js';
import {
  buildCpuRows,
  buildRows,
  buildSdkNotes,
  buildSdkRows,
  buildTargetChecks,
  buildWarnings,
  COLUMNS,
  formatCell,
  formatRatio,
  HERALD,
  metLabel,
  ratio,
  SDK_LABELS,
  sdkRatio,
} from './rows.js';

function align(table: string[][], rightFrom: number): string {
  const widths = table[0]?.map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length))) ?? [];
  return table
    .map((r, ri) =>
      r
        .map((c, i) => (i >= rightFrom && ri > 0 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function renderTerminal(results: Results): string {
  const label = (id: string) => results.targets.find((t) => t.id === id)?.label ?? id;
  const rows = buildRows(results);
  const head = ['figure', ...COLUMNS.map(label), 'Herald/naive', 'Herald/Socket.IO', 'Redis/memory'];
  const table: string[][] = [head];
  let section = '';
  for (const r of rows) {
    if (r.section !== section) {
      section = r.section;
      table.push([section, ...head.slice(1).map(() => '')]);
    }
    table.push([
      `  ${r.metric} (${r.better} is better)`,
      ...COLUMNS.map((c) => formatCell(r.cells[c], r.digits)),
      formatRatio(ratio(r, HERALD, 'naive-ws')),
      formatRatio(ratio(r, HERALD, 'socketio')),
      formatRatio(ratio(r, 'herald-redis', HERALD)),
    ]);
  }
  const out = [align(table, 1)];

  const sdk = buildSdkRows(results);
  if (sdk.length > 0) {
    const head2 = ['SDK (scenario 6)', SDK_LABELS.herald, SDK_LABELS.inngest, 'Herald SDK / 0.4.7'];
    const t: string[][] = [head2];
    let sec = '';
    for (const r of sdk) {
      if (r.section !== sec) {
        sec = r.section;
        t.push([sec, '', '', '']);
      }
      t.push([
        `  ${r.metric} (${r.better} is better)`,
        formatCell(r.herald, r.digits),
        formatCell(r.inngest, r.digits),
        formatRatio(sdkRatio(r)),
      ]);
    }
    out.push('', align(t, 1));
    for (const n of buildSdkNotes(results)) out.push(`  ${n}`);
  }

  const cpu = buildCpuRows(results);
  if (cpu.length > 0) {
    const t2: string[][] = [
      [
        'load generator vs server',
        'server',
        'server cores',
        'generator cores',
        'gen/server',
        'server µs/msg',
        'gen µs/msg',
        'others',
        'delivered',
        'closes',
        'gen loop p99',
      ],
    ];
    for (const c of cpu)
      t2.push([
        c.run,
        c.target,
        c.serverCores.toFixed(2),
        c.generatorCores.toFixed(2),
        `${(c.share * 100).toFixed(0)}%`,
        c.serverUsPerMsg === undefined ? '—' : c.serverUsPerMsg.toFixed(2),
        c.generatorUsPerMsg === undefined ? '—' : c.generatorUsPerMsg.toFixed(2),
        c.otherCores.toFixed(2),
        `${(c.completeness * 100).toFixed(1)}%`,
        c.closes,
        `${c.loop}`,
      ]);
    out.push('', align(t2, 2));
  }
  const checks = buildTargetChecks(results);
  if (checks.length > 0) {
    const t3: string[][] = [['issue 7 goal', 'this run', '']];
    for (const c of checks) t3.push([c.goal, c.value, metLabel(c.met)]);
    out.push('', align(t3, 1));
  }
  for (const w of buildWarnings(results)) out.push(`warning: ${w}`);
  const failed = results.runs.filter((r) => !r.ok || r.error !== undefined);
  for (const f of failed)
    out.push(`failed: ${f.scenario} ${f.case} · ${label(f.target)}: ${f.error?.split('\n')[0]}`);
  for (const l of results.later) out.push(`not run: ${l.title} — ${l.reason}`);
  return out.join('\n');
}
