/** The soak's summary: a table (terminal and markdown alike) and the markdown page beside the chart. */
import type { SoakResult } from './result.js';

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;
const sign = (b: number) => `${b >= 0 ? '+' : '−'}${mb(Math.abs(b))}`;
const ms = (n: number) => (Number.isFinite(n) ? `${n.toFixed(2)} ms` : '—');

/** Figure → value rows, in the order docs/reliability.md shows them. */
export function summaryRows(r: SoakResult): [string, string][] {
  const p = r.params;
  const s = r.summary;
  const lat = s.latency;
  const win = p.quick ? '10 s' : 'minute';
  return [
    [
      'Connections',
      `${int(p.connections)}${p.cappedBy ? ` (${int(p.requestedConnections)} requested; capped by the file-descriptor limit)` : ''}, over ${p.subscriberProcesses} subscriber processes`,
    ],
    ['Channels (subscribers each)', `${int(p.channels)} (${int(p.connections / p.channels)})`],
    ['Publish rate, engine', `${int(p.rate)} msg/s, ${p.engine}`],
    ['Duration (warm-up)', `${p.durationSeconds} s (${p.warmupSeconds} s)`],
    [
      'Churn',
      `${p.churnPercent} % of subscribers per second leave (half clean close, half TCP drop), away up to ${int(p.awayMs)} ms, resume`,
    ],
    [
      'Messages published (failed, skipped)',
      `${int(s.published.ok)} (${int(s.published.failed)}, ${int(s.published.skipped)})`,
    ],
    [
      'Deliveries (expected; replayed on resume)',
      `${int(s.deliveries)} (${int(s.expectedDeliveries)}; ${int(s.replayed)})`,
    ],
    ['Reconnects with resume (failed attempts)', `${int(s.reconnects)} (${int(s.reconnectFailures)})`],
    ['Lost / duplicated / reordered', `${int(s.lost)} / ${int(s.duplicated)} / ${int(s.reordered)}`],
    [
      'Caught up at the end',
      `${int(s.final.caughtUp)} of ${int(s.final.subscribers)} (/health: ${int(s.final.healthConnections)} connections)`,
    ],
    [
      'Resumes not recovered; unexpected closes',
      `${int(s.recoveredFalse)}; ${int(s.unexpectedCloses)}${Object.keys(s.closes).length > 0 ? ` (${JSON.stringify(s.closes)})` : ''}`,
    ],
    ['RSS start / end / max', `${mb(s.rssBytes.start)} / ${mb(s.rssBytes.end)} / ${mb(s.rssBytes.max)}`],
    [
      'Heap used start / end / max (sampled)',
      `${mb(s.heapUsedBytes.start)} / ${mb(s.heapUsedBytes.end)} / ${mb(s.heapUsedBytes.max)}`,
    ],
    [
      'Growth after the history filled (RSS, heap)',
      s.steady
        ? `from ${s.steady.fromS} s: RSS ${sign(s.rssBytes.end - s.steady.rssBytes)}, heap ${sign(s.heapUsedBytes.end - s.steady.heapUsedBytes)}`
        : `history not full within the run (full at ${Math.round(p.historyFullAtS)} s)`,
    ],
    [
      'Heap after GC, idle before / after',
      `${mb(s.idle.before.heapAfterGc)} / ${mb(s.idle.after.heapAfterGc)}`,
    ],
    [`Latency p99, first ${win} / last ${win}`, `${ms(lat.first.p99Ms)} / ${ms(lat.last.p99Ms)}`],
    [
      'Latency p50 / p99 / max, whole run',
      `${ms(lat.whole.p50Ms)} / ${ms(lat.whole.p99Ms)} / ${ms(lat.whole.maxMs)}`,
    ],
  ];
}

export function renderTable(r: SoakResult): string {
  return ['| Figure | Value |', '|---|---|', ...summaryRows(r).map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
}

export function renderText(r: SoakResult): string {
  const rows = summaryRows(r);
  if (r.params.cappedBy) rows.splice(1, 0, ['Capped by', r.params.cappedBy]);
  const w = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`);
  const verdict = r.ok ? 'PASSED' : 'FAILED';
  return [
    `Soak ${verdict}${r.params.quick ? ' (quick)' : ''}`,
    ...lines,
    ...r.problems.map((p) => `  ✗ ${p}`),
    ...r.warnings.map((w) => `  ! ${w}`),
    ...(r.examples.length > 0
      ? ['  first anomalies:', ...r.examples.slice(0, 10).map((e) => `    ${e}`)]
      : []),
  ].join('\n');
}

export function renderMarkdown(r: SoakResult, svgName: string): string {
  const m = r.machine;
  return `# Herald soak, ${r.startedAt}

Command: \`${r.command}\`

Machine: ${m.cpus} × ${m.cpuModel}, ${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB, Node ${m.node}, ${m.os}, load average at start ${m.loadAverage.join(' ')}, file descriptors per process ${m.fdLimit}, commit ${m.commit}.

Herald: \`herald ${r.params.heraldArgs.join(' ')}\`${r.params.cappedBy ? `\n\nConnections capped by ${r.params.cappedBy}.` : ''}

**${r.ok ? 'Passed' : 'Failed'}**${r.problems.length > 0 ? `: ${r.problems.join('; ')}` : ''}

${renderTable(r)}
${r.warnings.length > 0 ? `\nWarnings:\n\n${r.warnings.map((w) => `- ${w}`).join('\n')}\n` : ''}
![soak chart](${svgName})
`;
}
