/**
 * The statuses a run lifecycle frame (`/publish?kind=run`) may name, and where in its body: what
 * `inngest` v4's `useRealtime` reads (`runStatus`, then `status`, then `state`; case-insensitive,
 * with synonyms). A body naming none of them would leave every hook's `runStatus` unchanged, so it
 * is refused rather than published to no effect. The SDK keeps a copy (it cannot import the
 * server), checked equal by its tests.
 */
export type RunStatus = 'running' | 'completed' | 'failed' | 'cancelled';

/** Every accepted spelling (lower case) → its status. */
export const RUN_STATUS_NAMES: Readonly<Record<string, RunStatus>> = {
  running: 'running',
  in_progress: 'running',
  completed: 'completed',
  complete: 'completed',
  succeeded: 'completed',
  success: 'completed',
  failed: 'failed',
  error: 'failed',
  cancelled: 'cancelled',
  canceled: 'cancelled',
};

/** The body fields that may hold the status, in the order they are read. */
export const RUN_STATUS_FIELDS = ['runStatus', 'status', 'state'] as const;

/** The status a value names, if it names one. */
export function runStatusOf(value: unknown): RunStatus | undefined {
  if (typeof value !== 'string') return undefined;
  const name = value.toLowerCase();
  // Own keys only: "constructor" must not name a status.
  return Object.hasOwn(RUN_STATUS_NAMES, name) ? RUN_STATUS_NAMES[name] : undefined;
}

/** The status a run frame's body names (the first field that names one), if any. */
export function bodyRunStatus(body: Record<string, unknown>): RunStatus | undefined {
  for (const field of RUN_STATUS_FIELDS) {
    const status = runStatusOf(body[field]);
    if (status !== undefined) return status;
  }
  return undefined;
}
