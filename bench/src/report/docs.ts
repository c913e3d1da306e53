/**
 * Keeps the results section of docs/performance.md current: a full run replaces what stands between
 * the two markers and leaves the hand-written rest of the page alone.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Results } from '../results.js';
import { machineLine, renderTables } from './markdown.js';

export const START = '<!-- bench:results:start (written by npm run bench; edits here are overwritten) -->';
export const END = '<!-- bench:results:end -->';

export function resultsSection(results: Results): string {
  return [
    START,
    '',
    `Latest full run: ${results.startedAt}, \`${results.command}\`.`,
    '',
    `Machine: ${machineLine(results)}.`,
    '',
    renderTables(results),
    '',
    '![Benchmark chart](../bench/results/latest.svg)',
    '',
    END,
  ].join('\n');
}

export function updateDocs(path: string, results: Results): void {
  const section = resultsSection(results);
  if (!existsSync(path)) {
    writeFileSync(path, `# Performance\n\n${section}\n`);
    return;
  }
  const text = readFileSync(path, 'utf8');
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  const next =
    a >= 0 && b > a
      ? text.slice(0, a) + section + text.slice(b + END.length)
      : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(path, next);
}
