/**
 * The soak's verdict: the invariants that fail a run (nothing lost, duplicated or reordered, every
 * publish accepted, every subscriber at its channel's last position…) and the warnings that explain
 * its figures (skipped publishes, others' CPU, a heap that kept growing).
 */
import type { Sample, SoakParams, SoakSummary } from './result.js';

/** A generous leak guard, not a timing figure: heap at the end ≤ 2 × start + 50 MB. */
export const heapGuard = (start: number): number => 2 * start + 50 * 2 ** 20;

const int = (n: number) => Math.round(n).toLocaleString('en-US');

export function judge(
  s: SoakSummary,
  p: SoakParams,
  series: Sample[],
  /** Publishes the publisher keeps in flight at most. */
  inflightCap: number,
): { problems: string[]; warnings: string[] } {
  const problems: string[] = [];
  const warnings: string[] = [];
  if (s.lost > 0) problems.push(`${int(s.lost)} messages lost`);
  if (s.duplicated > 0) problems.push(`${int(s.duplicated)} messages duplicated`);
  if (s.reordered > 0) problems.push(`${int(s.reordered)} messages reordered`);
  if (s.published.failed > 0)
    problems.push(
      `${int(s.published.failed)} publishes failed (${JSON.stringify(s.published.statuses)}): ${s.published.errors.join('; ')}`,
    );
  const f = s.final;
  if (f.caughtUp < f.subscribers)
    problems.push(
      `${int(f.subscribers - f.caughtUp)} subscribers did not end at their channel's last position ` +
        `(behind ${f.behind}, ahead ${f.ahead}, other epoch ${f.wrongEpoch}, not live ${f.subscribers - f.live})`,
    );
  if (s.deliveries !== s.expectedDeliveries)
    problems.push(`${int(s.deliveries)} deliveries where ${int(s.expectedDeliveries)} were expected`);
  if (s.recoveredFalse > 0) problems.push(`${int(s.recoveredFalse)} resumes were not recovered`);
  if (s.epochChanges > 0) problems.push(`${int(s.epochChanges)} epoch changes`);
  if (s.wrongChannel > 0) problems.push(`${int(s.wrongChannel)} messages of another channel`);
  if (s.unexpectedFrames > 0) problems.push(`${int(s.unexpectedFrames)} unexpected frames`);
  if (p.churnPercent > 0 && s.reconnects === 0)
    problems.push('churn asked for, but no subscriber reconnected');

  if (s.published.skipped > 0)
    warnings.push(
      `${int(s.published.skipped)} publishes skipped: the publisher had ${int(inflightCap)} requests in flight (Herald, or this shared machine, did not keep up with ${int(p.rate)} msg/s)`,
    );
  if (s.unexpectedCloses > 0)
    warnings.push(
      `${int(s.unexpectedCloses)} connections closed unasked (${JSON.stringify(s.closes)}); they resumed`,
    );
  if (s.reconnectFailures > 0)
    warnings.push(`${int(s.reconnectFailures)} reconnect attempts failed (and were retried)`);
  // Until every channel's history is full, memory grows by design: the leak guard only compares
  // from the steady point (the test's quick run checks its own, with a history far from full).
  if (s.steady && s.heapUsedBytes.end > heapGuard(s.steady.heapUsedBytes))
    warnings.push(
      `heap at the end is more than 2 × its steady value (${s.steady.fromS} s) + 50 MB (a leak?)`,
    );
  const measured = series.filter((x) => x.t >= p.warmupSeconds);
  const others = measured.reduce((x, y) => x + y.otherCores, 0) / Math.max(1, measured.length);
  if (others > 0.25)
    warnings.push(
      `other processes on this machine used ${others.toFixed(2)} cores on average during the run: latency and rates are not this machine's best`,
    );
  const lag = Math.max(0, ...series.map((x) => x.workerLoopDelayP99Ms));
  if (lag > 100)
    warnings.push(
      `a subscriber process's event loop lagged up to ${lag.toFixed(0)} ms (p99): latency includes the generators' own delay`,
    );
  return { problems, warnings };
}
