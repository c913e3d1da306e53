/** The results as a Markdown summary (also the body of docs/performance.md's results section). */
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

export function machineLine(results: Results): string {
  const m = results.machine;
  return (
    `${m.cpus} × ${m.cpuModel}, ${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB, Node ${m.node}, ${m.os}, ` +
    `load average at start ${m.loadAverage.join(' ')}, file descriptors per process ${m.fdLimit}, ` +
    `commit ${m.commit}; ws ${m.versions.ws}, socket.io ${m.versions['socket.io']}, autocannon ${m.versions.autocannon}` +
    (m.versions['@inngest/realtime'] ? `, @inngest/realtime ${m.versions['@inngest/realtime']}` : '')
  );
}

/** The tables, without a title (docs embed them under their own heading). */
export function renderTables(results: Results): string {
  const label = (id: string) => results.targets.find((t) => t.id === id)?.label ?? id;
  const rows = buildRows(results);
  const out: string[] = [];
  out.push(
    `| Figure | ${COLUMNS.map(label).join(' | ')} | Herald / naive ws | Herald / Socket.IO | Redis / memory |`,
    `|---|${COLUMNS.map(() => '--:|').join('')}--:|--:|--:|`,
  );
  for (const r of rows)
    out.push(
      `| ${r.section}: ${r.metric} (${r.better} is better) | ${COLUMNS.map((c) => formatCell(r.cells[c], r.digits)).join(' | ')} | ` +
        `${formatRatio(ratio(r, HERALD, 'naive-ws'))} | ${formatRatio(ratio(r, HERALD, 'socketio'))} | ` +
        `${formatRatio(ratio(r, 'herald-redis', HERALD))} |`,
    );
  const sdk = buildSdkRows(results);
  if (sdk.length > 0) {
    out.push(
      '',
      `SDK (scenario 6), each client in its own process against the same Herald (in-memory):`,
      '',
      `| Figure | ${SDK_LABELS.herald} | ${SDK_LABELS.inngest} | Herald SDK / 0.4.7 |`,
      '|---|--:|--:|--:|',
    );
    for (const r of sdk)
      out.push(
        `| ${r.section}: ${r.metric} (${r.better} is better) | ${formatCell(r.herald, r.digits)} | ${formatCell(r.inngest, r.digits)} | ${formatRatio(sdkRatio(r))} |`,
      );
    const notes = buildSdkNotes(results);
    if (notes.length > 0) out.push('', ...notes.map((n) => `- ${n}`));
  }
  const cpu = buildCpuRows(results);
  if (cpu.length > 0) {
    out.push(
      '',
      'Load generator vs server (CPU in cores over the measured window; "others" is CPU used by processes outside the benchmark):',
      '',
      '| Run | Server | Server cores | Generator cores | Generator / server | Server µs/msg | Generator µs/msg | Others | Delivered | Closes | Generator loop delay p99 |',
      '|---|---|--:|--:|--:|--:|--:|--:|--:|---|--:|',
    );
    for (const c of cpu)
      out.push(
        `| ${c.run} | ${c.target} | ${c.serverCores.toFixed(2)} | ${c.generatorCores.toFixed(2)} | ${(c.share * 100).toFixed(0)}% | ` +
          `${c.serverUsPerMsg?.toFixed(2) ?? '—'} | ${c.generatorUsPerMsg?.toFixed(2) ?? '—'} | ${c.otherCores.toFixed(2)} | ` +
          `${(c.completeness * 100).toFixed(1)}% | ${c.closes} | ${c.loop} |`,
      );
  }
  const checks = buildTargetChecks(results);
  if (checks.length > 0) {
    out.push(
      '',
      'Goals from issue 7, checked against this run:',
      '',
      '| Goal | This run | |',
      '|---|--:|---|',
    );
    for (const c of checks) out.push(`| ${c.goal} | ${c.value} | ${metLabel(c.met)} |`);
  }
  const warnings = buildWarnings(results);
  if (warnings.length > 0) {
    out.push('', 'Warnings:', '');
    for (const w of warnings) out.push(`- ${w}`);
  }
  const failed = results.runs.filter((r) => !r.ok || r.error !== undefined);
  if (failed.length > 0) {
    out.push('', 'Failed runs:', '');
    for (const f of failed)
      out.push(`- ${f.scenario} ${f.case} · ${label(f.target)}: ${f.error?.split('\n')[0]}`);
  }
  out.push('', 'Not run:', '');
  for (const t of results.targets.filter((x) => x.unavailable)) out.push(`- ${t.label}: ${t.unavailable}`);
  for (const l of results.later) out.push(`- ${l.title}: ${l.reason}`);
  return out.join('\n');
}

export function renderMarkdown(results: Results, chartFile: string): string {
  return [
    `# Herald benchmark${results.quick ? ' (quick)' : ''}, ${results.startedAt}`,
    '',
    `Command: \`${results.command}\``,
    '',
    `Machine: ${machineLine(results)}.`,
    '',
    renderTables(results),
    '',
    `![chart](${chartFile})`,
    '',
  ].join('\n');
}
