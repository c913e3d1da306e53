/**
 * Run lifecycle messages (kind `run`): what Herald's server accepts and what `inngest` v4's
 * `useRealtime` reads from them — the status in `runStatus`, `status` or `state` (that order;
 * case-insensitive, with synonyms) and the result in `result`, or in `output` once completed. One
 * reading for every consumer in this SDK, the same as v4's, so a frame means the same thing to
 * Herald's hook and Inngest's. The status table is a copy of the server's (the SDK cannot import
 * it), checked equal by a test.
 */

/** A run's status, as `useRealtime`'s `runStatus` reports it (besides `unknown`). */
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

/** The fields of a run message's data that may hold the status, in the order they are read. */
export const RUN_STATUS_FIELDS = ['runStatus', 'status', 'state'] as const;

/** The terminal statuses: nothing follows them. */
export function isTerminalRunStatus(status: RunStatus | undefined): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled';
}

function statusNamed(value: unknown): RunStatus | undefined {
  if (typeof value !== 'string') return undefined;
  const name = value.toLowerCase();
  // Own keys only: "constructor" must not name a status.
  return Object.hasOwn(RUN_STATUS_NAMES, name) ? RUN_STATUS_NAMES[name] : undefined;
}

/** What a run message says: its status (if it names one) and, when it carries one, the result. */
export interface RunLifecycle {
  status: RunStatus | undefined;
  /** Present (possibly `undefined`) only when the message carries a result. */
  result?: unknown;
}

/**
 * Reads a run message's data (or the message itself: its `data` is read) as `inngest` v4's hook
 * does: `{ status }`, plus `result` from `data.result`, or from `data.output` when completed.
 */
export function runLifecycleOf(messageOrData: unknown): RunLifecycle {
  const m = messageOrData as { kind?: unknown; data?: unknown } | null;
  const data = m !== null && typeof m === 'object' && m.kind === 'run' ? m.data : messageOrData;
  if (data === null || typeof data !== 'object') return { status: undefined };
  const obj = data as Record<string, unknown>;
  let status: RunStatus | undefined;
  for (const field of RUN_STATUS_FIELDS) {
    status = statusNamed(obj[field]);
    if (status !== undefined) break;
  }
  if ('result' in obj) return { status, result: obj.result };
  if (status === 'completed' && 'output' in obj) return { status, result: obj.output };
  return { status };
}
