/**
 * The soak's series as one SVG image, drawn by hand like report/chart.ts: Herald's RSS and heap,
 * delivery latency (p50, p99), deliveries/s and reconnects/s, each over time, with the end of the
 * warm-up marked.
 */
import type { SoakResult } from './result.js';

const PANEL_W = 560;
const PANEL_H = 280;
const GAP = 20;
const TOP = 70;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A round step (1, 2 or 5 × 10^k) that splits `span` into about `parts` intervals. */
function niceStep(span: number, parts: number): number {
  const raw = span / parts;
  if (!(raw > 0)) return 1;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

function label(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(0)}k`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  if (n >= 10 || Number.isInteger(n)) return n.toFixed(0);
  return n.toFixed(1);
}

interface Line {
  name: string;
  color: string;
  points: [t: number, v: number][];
}

interface Marks {
  warmup: number;
  historyFull: number;
}

function panel(x: number, y: number, title: string, lines: Line[], tMax: number, marks: Marks): string {
  const out: string[] = [];
  const left = x + 56;
  const right = x + PANEL_W - 12;
  const top = y + 52;
  const bottom = y + PANEL_H - 30;
  out.push(`<rect x="${x}" y="${y}" width="${PANEL_W}" height="${PANEL_H}" fill="#fff" stroke="#ddd"/>`);
  out.push(`<text x="${x + 10}" y="${y + 20}" font-size="14" font-weight="bold">${esc(title)}</text>`);
  lines.forEach((l, i) => {
    const lx = x + 10 + i * 130;
    out.push(
      `<line x1="${lx}" x2="${lx + 16}" y1="${y + 31}" y2="${y + 31}" stroke="${l.color}" stroke-width="2"/>`,
    );
    out.push(`<text x="${lx + 20}" y="${y + 35}" font-size="11">${esc(l.name)}</text>`);
  });
  const values = lines.flatMap((l) => l.points.map((p) => p[1])).filter(Number.isFinite);
  if (values.length === 0 || tMax <= 0) {
    out.push(
      `<text x="${x + PANEL_W / 2}" y="${y + PANEL_H / 2}" text-anchor="middle" fill="#888">no data</text>`,
    );
    return out.join('\n');
  }
  const vStep = niceStep(Math.max(...values) * 1.1 || 1, 4);
  const vMax = Math.ceil((Math.max(...values) * 1.1 || 1) / vStep) * vStep;
  const sx = (t: number) => left + (t / tMax) * (right - left);
  const sy = (v: number) => bottom - (v / vMax) * (bottom - top);
  for (let v = 0; v <= vMax + vStep / 2; v += vStep) {
    const ty = sy(v).toFixed(1);
    out.push(`<line x1="${left}" x2="${right}" y1="${ty}" y2="${ty}" stroke="#eee"/>`);
    out.push(
      `<text x="${left - 6}" y="${(sy(v) + 4).toFixed(1)}" font-size="10" text-anchor="end" fill="#666">${label(v)}</text>`,
    );
  }
  const tStep = niceStep(tMax, 6);
  for (let t = 0; t <= tMax + 1e-9; t += tStep) {
    out.push(
      `<text x="${sx(t).toFixed(1)}" y="${bottom + 14}" font-size="10" text-anchor="middle" fill="#666">${label(t)} s</text>`,
    );
  }
  out.push(`<line x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}" stroke="#999"/>`);
  const mark = (t: number, text: string, dy: number) => {
    if (!(t > 0 && t < tMax)) return;
    const wx = sx(t).toFixed(1);
    out.push(`<line x1="${wx}" x2="${wx}" y1="${top}" y2="${bottom}" stroke="#bbb" stroke-dasharray="4 3"/>`);
    out.push(`<text x="${Number(wx) + 3}" y="${top + dy}" font-size="9" fill="#999">${text}</text>`);
  };
  mark(marks.warmup, 'warm-up ends', 10);
  mark(marks.historyFull, 'history full', 22);
  for (const l of lines) {
    const pts = l.points.filter((p) => Number.isFinite(p[1]));
    if (pts.length === 0) continue;
    const d = pts
      .map((p, i) => `${i === 0 ? 'M' : 'L'}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`)
      .join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${l.color}" stroke-width="1.8"/>`);
  }
  return out.join('\n');
}

export function renderSoakChart(r: SoakResult): string {
  const s = r.series;
  const tMax = s.length > 0 ? Math.max(...s.map((p) => p.t)) : 0;
  const marks: Marks = { warmup: r.params.warmupSeconds, historyFull: r.params.historyFullAtS };
  const mb = (b: number) => b / 2 ** 20;
  const w = PANEL_W * 2 + GAP * 3;
  const h = TOP + (PANEL_H + GAP) * 2;
  const p = r.params;
  const sub =
    `${p.connections.toLocaleString('en-US')} connections · ${p.channels.toLocaleString('en-US')} channels · ` +
    `${p.rate.toLocaleString('en-US')} msg/s · churn ${p.churnPercent} %/s · history ${p.history.size.toLocaleString('en-US')} messages/channel · ${p.engine} engine · ` +
    `${r.machine.cpus} cores · Node ${r.machine.node} · ${r.machine.commit}`;
  const body = [
    panel(
      GAP,
      TOP,
      'Herald memory, MB',
      [
        { name: 'RSS', color: '#2f6fdf', points: s.map((x) => [x.t, mb(x.rssBytes)]) },
        { name: 'heap used', color: '#e0a030', points: s.map((x) => [x.t, mb(x.heapUsedBytes)]) },
      ],
      tMax,
      marks,
    ),
    panel(
      GAP * 2 + PANEL_W,
      TOP,
      'Delivery latency (publish → receive), ms',
      [
        { name: 'p50', color: '#3a9a5b', points: s.map((x) => [x.t, x.p50Ms]) },
        { name: 'p99', color: '#c0392b', points: s.map((x) => [x.t, x.p99Ms]) },
      ],
      tMax,
      marks,
    ),
    panel(
      GAP,
      TOP + PANEL_H + GAP,
      'Deliveries/s',
      [{ name: 'deliveries/s', color: '#2f6fdf', points: s.map((x) => [x.t, x.deliveriesPerSec]) }],
      tMax,
      marks,
    ),
    panel(
      GAP * 2 + PANEL_W,
      TOP + PANEL_H + GAP,
      'Reconnects/s (churn, with resume)',
      [{ name: 'reconnects/s', color: '#7b4fcf', points: s.map((x) => [x.t, x.reconnectsPerSec]) }],
      tMax,
      marks,
    ),
  ].join('\n');
  const verdict = r.ok ? 'lost 0 · duplicated 0 · reordered 0' : `FAILED: ${r.problems[0] ?? ''}`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="Helvetica, Arial, sans-serif">
<rect width="100%" height="100%" fill="#f7f7f7"/>
<text x="${GAP}" y="26" font-size="17" font-weight="bold">Herald soak${p.quick ? ' (quick)' : ''}, ${p.durationSeconds} s — ${esc(r.startedAt.slice(0, 16).replace('T', ' '))} UTC</text>
<text x="${w - GAP}" y="26" font-size="12" text-anchor="end" fill="${r.ok ? '#3a9a5b' : '#c0392b'}">${esc(verdict)}</text>
<text x="${GAP}" y="48" font-size="11" fill="#666">${esc(sub)}</text>
${body}
</svg>
`;
}
