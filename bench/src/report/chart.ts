/**
 * The results as one SVG image: a panel per figure (fan-out, latency, memory, publish, recovery, and
 * the SDK's rate, CPU and heap), a bar per server (or SDK client), its value printed above it.
 * Written by hand: no chart library, no fonts to install.
 */
import type { Results } from '../results.js';
import type { TargetId } from '../targets.js';
import { buildRows, buildSdkRows, type Cell, COLUMNS, type Row, SDK_LABELS, type SdkRow } from './rows.js';

const COLORS: Record<TargetId, string> = {
  'naive-ws': '#8c8c8c',
  socketio: '#e0a030',
  'herald-memory': '#2f6fdf',
  'herald-redis': '#7b4fcf',
};
/** SDK clients: @herald/realtime in Herald's blue, 0.4.7 in green. */
const SDK_COLORS = { herald: '#2f6fdf', inngest: '#3a9a5b' };

const PANEL_W = 470;
const PANEL_H = 300;
const GAP = 20;
const TOP = 88;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A round step (1, 2 or 5 × 10^k) that splits `span` into about `parts` intervals. */
function niceStep(span: number, parts: number): number {
  const raw = span / parts;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

function compact(n: number, digits: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(0)}k`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  if (n >= 100) return n.toFixed(0);
  if (n >= 10) return n.toFixed(Math.min(digits, 1));
  return n.toFixed(digits);
}

interface Group {
  label: string;
  values: { color: string; cell: Cell }[];
}

function panel(x: number, y: number, title: string, groups: Group[], digits: number, log: boolean): string {
  const out: string[] = [];
  const left = x + 58;
  const right = x + PANEL_W - 10;
  const top = y + 34;
  const bottom = y + PANEL_H - 34;
  const plotH = bottom - top;
  out.push(`<rect x="${x}" y="${y}" width="${PANEL_W}" height="${PANEL_H}" fill="#fff" stroke="#ddd"/>`);
  out.push(`<text x="${x + 10}" y="${y + 20}" font-size="14" font-weight="bold">${esc(title)}</text>`);
  const nums = groups
    .flatMap((g) => g.values.map((v) => v.cell))
    .filter((c): c is number => typeof c === 'number');
  if (nums.length === 0) {
    out.push(
      `<text x="${x + PANEL_W / 2}" y="${y + PANEL_H / 2}" text-anchor="middle" fill="#888">no data</text>`,
    );
    return out.join('\n');
  }
  const max = Math.max(...nums);
  const minPos = Math.min(...nums.filter((n) => n > 0));
  const lo = log ? 10 ** Math.floor(Math.log10(minPos)) : 0;
  const step = niceStep(max * 1.15, 4);
  const hi = log ? 10 ** Math.ceil(Math.log10(max * 1.5)) : Math.ceil((max * 1.15) / step) * step;
  const scale = (v: number) =>
    log
      ? ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotH
      : (v / hi) * plotH;
  // Grid and axis labels.
  const ticks = log
    ? Array.from({ length: Math.round(Math.log10(hi / lo)) + 1 }, (_, i) => lo * 10 ** i)
    : Array.from({ length: Math.round(hi / step) + 1 }, (_, i) => i * step);
  for (const tv of ticks) {
    const ty = bottom - scale(tv);
    out.push(`<line x1="${left}" x2="${right}" y1="${ty.toFixed(1)}" y2="${ty.toFixed(1)}" stroke="#eee"/>`);
    out.push(
      `<text x="${left - 6}" y="${(ty + 4).toFixed(1)}" font-size="10" text-anchor="end" fill="#666">${compact(tv, tv === 0 || tv >= 10 || Number.isInteger(tv) ? 0 : 2)}</text>`,
    );
  }
  out.push(`<line x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}" stroke="#999"/>`);
  const slot = (right - left) / groups.length;
  groups.forEach((g, gi) => {
    const bars = g.values;
    const bw = Math.min(48, (slot * 0.8) / Math.max(1, bars.length));
    const start = left + gi * slot + (slot - bw * bars.length) / 2;
    bars.forEach((b, bi) => {
      const bx = start + bi * bw;
      if (typeof b.cell === 'number') {
        const h = Math.max(1, scale(b.cell));
        out.push(
          `<rect x="${bx.toFixed(1)}" y="${(bottom - h).toFixed(1)}" width="${(bw - 3).toFixed(1)}" height="${h.toFixed(1)}" fill="${b.color}"/>`,
        );
        out.push(
          `<text x="${(bx + (bw - 3) / 2).toFixed(1)}" y="${(bottom - h - 4).toFixed(1)}" font-size="10" text-anchor="middle">${compact(b.cell, digits)}</text>`,
        );
      } else {
        out.push(
          `<text x="${(bx + (bw - 3) / 2).toFixed(1)}" y="${bottom - 4}" font-size="9" text-anchor="middle" fill="#b00">${esc(b.cell ?? '—')}</text>`,
        );
      }
    });
    out.push(
      `<text x="${(left + gi * slot + slot / 2).toFixed(1)}" y="${bottom + 16}" font-size="11" text-anchor="middle">${esc(g.label)}</text>`,
    );
  });
  if (log)
    out.push(
      `<text x="${right}" y="${y + 20}" font-size="10" text-anchor="end" fill="#888">log scale</text>`,
    );
  return out.join('\n');
}

export function renderChart(results: Results): string {
  const rows = buildRows(results);
  // Only servers that produced at least one figure get a bar.
  const shown = COLUMNS.filter((c) =>
    rows.some((r) => typeof r.cells[c] === 'number' || r.cells[c] === 'failed'),
  );
  const groupOf = (r: Row, label: string): Group => ({
    label,
    values: shown.map((t) => ({ color: COLORS[t], cell: r.cells[t] })),
  });
  const heraldOnly = (r: Row, label: string): Group => ({
    label,
    values: (['herald-memory', 'herald-redis'] as const)
      .filter((t) => shown.includes(t))
      .map((t) => ({ color: COLORS[t], cell: r.cells[t] })),
  });
  const sdkRows = buildSdkRows(results);
  const sdkGroup = (r: SdkRow, label: string): Group => ({
    label,
    values: [
      { color: SDK_COLORS.herald, cell: r.herald },
      { color: SDK_COLORS.inngest, cell: r.inngest },
    ],
  });
  const sdkPick = (part: string, metric: string) =>
    sdkRows.filter((r) => r.section.startsWith(`SDK, ${part}`) && r.metric.startsWith(metric));
  const partOf = (r: SdkRow) => /^SDK, (\w+)/.exec(r.section)?.[1] ?? r.section;
  const rec = rows.filter((r) => r.section.startsWith('Recovery'));
  const fan = rows.filter((r) => r.section.startsWith('Fan-out'));
  const lat = rows.filter((r) => r.section.startsWith('Latency'));
  const mem = rows.filter((r) => r.section.startsWith('Memory') && r.metric.startsWith('RSS'));
  const pub = rows.filter((r) => r.section.startsWith('Publish'));
  const subsOf = (s: string) => /× ([\d,]+) subscribers/.exec(s)?.[1] ?? s;
  const connsOf = (s: string) => {
    const conns = /Memory, ([\d,]+)/.exec(s)?.[1] ?? s;
    const redis = /Redis, 3 nodes\): ([\d,]+)/.exec(s)?.[1];
    return redis ? `${conns} (Redis: ${redis})` : conns;
  };
  const rowsOfPanels = sdkRows.length > 0 || rec.length > 0 ? 4 : 2;
  const w = PANEL_W * 2 + GAP * 3;
  const h = TOP + PANEL_H * rowsOfPanels + GAP * rowsOfPanels;
  // Servers on the first legend line, SDK clients on the second.
  const keyLine = (keys: { color: string; label: string }[], y: number) =>
    keys
      .map(
        (k, i) =>
          `<rect x="${GAP + i * 190}" y="${y}" width="12" height="12" fill="${k.color}"/>` +
          `<text x="${GAP + i * 190 + 18}" y="${y + 10}" font-size="12">${esc(k.label)}</text>`,
      )
      .join('\n');
  const legend = [
    keyLine(
      shown.map((t) => ({ color: COLORS[t], label: results.targets.find((x) => x.id === t)?.label ?? t })),
      42,
    ),
    sdkRows.length > 0
      ? keyLine(
          [
            { color: SDK_COLORS.herald, label: `SDK: ${SDK_LABELS.herald}` },
            { color: SDK_COLORS.inngest, label: `SDK: ${SDK_LABELS.inngest}` },
          ],
          62,
        )
      : '',
  ].join('\n');
  const rowY = (i: number) => TOP + (PANEL_H + GAP) * i;
  const m = results.machine;
  const body = [
    panel(
      GAP,
      TOP,
      'Fan-out: deliveries/s (higher is better)',
      fan.map((r) => groupOf(r, `${subsOf(r.section)} subs`)),
      0,
      false,
    ),
    panel(
      GAP * 2 + PANEL_W,
      TOP,
      'Latency: publish → receive, ms (lower is better)',
      lat.map((r) => groupOf(r, r.metric.replace(' ms', ''))),
      2,
      true,
    ),
    panel(
      GAP,
      TOP + PANEL_H + GAP,
      'Memory: RSS KB per idle connection (lower is better)',
      mem.map((r) => groupOf(r, `${connsOf(r.section)} conns`)),
      1,
      false,
    ),
    panel(
      GAP * 2 + PANEL_W,
      TOP + PANEL_H + GAP,
      'Publish: HTTP requests/s (higher is better)',
      pub.map((r) => groupOf(r, r.section.replace('Publish, HTTP keep-alive, ', ''))),
      0,
      false,
    ),
    ...(rowsOfPanels > 2
      ? [
          panel(
            GAP,
            rowY(2),
            'SDK: messages/s read by subscribe() (higher is better)',
            sdkPick('', 'messages/s').map((r) => sdkGroup(r, partOf(r))),
            0,
            false,
          ),
          panel(
            GAP * 2 + PANEL_W,
            rowY(2),
            'SDK: client CPU µs per message (lower is better)',
            sdkPick('', 'client CPU').map((r) => sdkGroup(r, partOf(r))),
            1,
            false,
          ),
          panel(
            GAP,
            rowY(3),
            'SDK: heap growth, unread stream, MB (lower is better)',
            sdkPick('unread', 'heap').map((r) =>
              sdkGroup(r, r.metric.includes('second half') ? 'second half' : 'all messages'),
            ),
            1,
            false,
          ),
          panel(
            GAP * 2 + PANEL_W,
            rowY(3),
            'Recovery: replay of 1,000 missed messages, ms (lower is better)',
            rec.map((r) => heraldOnly(r, r.metric.startsWith('slowest') ? 'slowest' : 'median')),
            1,
            false,
          ),
        ]
      : []),
  ].join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="Helvetica, Arial, sans-serif">
<rect width="100%" height="100%" fill="#f7f7f7"/>
<text x="${GAP}" y="26" font-size="17" font-weight="bold">Herald benchmark${results.quick ? ' (quick)' : ''} — ${esc(results.startedAt.slice(0, 16).replace('T', ' '))} UTC</text>
<text x="${w - GAP}" y="26" font-size="11" text-anchor="end" fill="#666">${m.cpus} cores · Node ${esc(m.node)} · ${esc(m.commit)}</text>
${legend}
${body}
</svg>
`;
}
