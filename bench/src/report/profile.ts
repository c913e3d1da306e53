/**
 * Summarizes V8 CPU profiles (`--cpu-prof` output): the functions with the most self time and the
 * most total (inclusive) time, as a Markdown table. Enough to see where a server spends a fan-out.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from '../targets.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const TOP = 30;

function nameOf(n: ProfileNode): string {
  const f = n.callFrame;
  const fn = f.functionName || '(anonymous)';
  if (!f.url) return fn;
  const file = f.url.startsWith('file://') ? relative(ROOT, new URL(f.url).pathname) : f.url;
  return `${fn} ${file}:${f.lineNumber + 1}`;
}

export function summarizeProfile(profile: CpuProfile): {
  self: [string, number][];
  total: [string, number][];
  ms: number;
} {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const key = nameOf(node);
    self.set(key, (self.get(key) ?? 0) + us);
    // Inclusive time: every distinct function on the stack gets the sample once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur);
      if (!n) break;
      const k = nameOf(n);
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + us);
    }
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, TOP);
  return { self: sorted(self), total: sorted(total), ms: (profile.endTime - profile.startTime) / 1000 };
}

export function summarizeProfiles(dir: string): string {
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  } catch {
    // none written
  }
  if (files.length === 0) return `No CPU profile was written in ${dir}.`;
  const out: string[] = [`# CPU profiles (${relative(ROOT, dir)})`];
  for (const f of files.sort()) {
    const p = JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile;
    const s = summarizeProfile(p);
    const pct = (us: number) => `${((us / 1000 / s.ms) * 100).toFixed(1)}%`;
    out.push('', `## ${f} (${(s.ms / 1000).toFixed(1)} s)`, '', '| Self | Function |', '|--:|---|');
    for (const [k, us] of s.self) out.push(`| ${pct(us)} | \`${k}\` |`);
    out.push('', '| Total | Function |', '|--:|---|');
    for (const [k, us] of s.total) out.push(`| ${pct(us)} | \`${k}\` |`);
  }
  return out.join('\n');
}
