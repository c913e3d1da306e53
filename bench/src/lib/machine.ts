/**
 * What a run was measured on: the machine, Node, and the commit of the server under test (with a
 * note when its source differs from the commit — the working tree is what runs).
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release, totalmem } from 'node:os';
import type { Machine } from '../results.js';

export function machineFacts(root: string, fdLimit: number): Omit<Machine, 'versions'> {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'packages/server/src'], {
      cwd: root,
      encoding: 'utf8',
    }).trim();
    if (dirty) commit += ' + uncommitted changes in packages/server';
  } catch {
    // not a git checkout
  }
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryBytes: totalmem(),
    node: process.version,
    os: `${process.platform} ${release()}`,
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    fdLimit,
    commit,
  };
}
