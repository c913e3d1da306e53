/**
 * What the run lifecycle middleware does, whichever `inngest` SDK calls it (v3: `middleware.ts`,
 * v4: `lifecycle.ts`): pick the run's channel, build the frame for each event (started →
 * `running`, finished → `completed` with the output, failed after the last attempt → `failed` with
 * the error's name and message), and publish it without ever failing the user's function — a
 * publish that fails or takes too long is logged and given up.
 *
 * It imports no `inngest`: the SDKs hand it what it needs (the client, for Herald's URL and signing
 * key, and the run's context).
 */
import { type AppLike, settingsFor } from './app.js';
import { publishRun, type RunUpdate } from './publish.js';

/** What the middleware knows of a run when it picks its channel. */
export interface RunInfo {
  runId: string;
  /** The function's id (without the app's prefix). */
  fnId: string | undefined;
  /** The event that triggered the run. */
  event: unknown;
}

export interface RunLifecycleOptions {
  /**
   * The channel a run's lifecycle goes to: a name, or a function of the run (e.g.
   * `({ event }) => \`job:${event.data.jobId}\``, a channel the page already knows; `undefined`
   * for a run whose lifecycle should not be published — an `onFailure` handler's run is a run
   * too). Default: `run:<runId>` (`runLifecycleChannel(runId)`).
   */
  channel?: string | ((run: RunInfo) => string | undefined);
  /** Herald's URL. Default: the inngest client's base URL, else the environment's. */
  baseUrl?: string;
  /** Default: the key the inngest client uses, else `INNGEST_SIGNING_KEY`. */
  signingKey?: string;
  signingKeyFallback?: string;
  /**
   * Send the error's stack with `failed` (default false: subscribers — browsers — get the error's
   * `name` and `message` only).
   */
  includeStack?: boolean;
  /** Give up one lifecycle publish after this long, in ms (default 5 000); the run goes on. */
  timeoutMs?: number;
  /**
   * Called when a lifecycle publish failed (it is not retried past `timeoutMs`; the run is not
   * affected). Default: a warning on the inngest client's logger, else the console.
   */
  onPublishError?: (error: Error, update: RunUpdate, run: RunInfo) => void;
}

const DEFAULT_TIMEOUT_MS = 5_000;

/** The default channel of a run's lifecycle. */
export function runLifecycleChannel(runId: string): string {
  return `run:${runId}`;
}

/** An error as subscribers see it: name and message, and the stack only when asked. */
export function serializeRunError(error: unknown, includeStack = false): Record<string, string> {
  if (error instanceof Error || (typeof error === 'object' && error !== null && 'message' in error)) {
    const e = error as { name?: unknown; message?: unknown; stack?: unknown };
    const out: Record<string, string> = {
      name: typeof e.name === 'string' && e.name ? e.name : 'Error',
      message: typeof e.message === 'string' ? e.message : String(e.message),
    };
    if (includeStack && typeof e.stack === 'string') out.stack = e.stack;
    return out;
  }
  return { name: 'Error', message: typeof error === 'string' ? error : safeString(error) };
}

function safeString(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** The function's id, from an inngest v3 or v4 function object. */
export function functionIdOf(fn: unknown): string | undefined {
  const f = fn as { id?: unknown; opts?: { id?: unknown } } | null | undefined;
  if (typeof f?.id === 'function') {
    const id = (f.id as () => unknown).call(f);
    if (typeof id === 'string') return id;
  }
  return typeof f?.opts?.id === 'string' ? f.opts.id : undefined;
}

interface LoggerLike {
  warn?: (...args: unknown[]) => void;
}

/** Publishes a run's lifecycle for one middleware instance (shared by every run it sees). */
export class RunLifecycleReporter {
  constructor(private readonly options: RunLifecycleOptions = {}) {}

  running(client: unknown, run: RunInfo): Promise<void> {
    return this.send(client, run, { status: 'running' });
  }

  completed(client: unknown, run: RunInfo, output: unknown): Promise<void> {
    // `undefined` is not JSON: a function that returns nothing completed with `null`, as Inngest records it.
    return this.send(client, run, { status: 'completed', output: output === undefined ? null : output });
  }

  failed(client: unknown, run: RunInfo, error: unknown): Promise<void> {
    return this.send(client, run, {
      status: 'failed',
      error: serializeRunError(error, this.options.includeStack === true),
    });
  }

  /** Never rejects: a failure is reported (`onPublishError` or the logger) and the run goes on. */
  private async send(client: unknown, run: RunInfo, update: RunUpdate): Promise<void> {
    try {
      const channel = this.channelOf(run);
      if (channel === undefined) return;
      const s = settingsFor(client as AppLike, this.options.baseUrl);
      const transport = {
        baseUrl: s.baseUrl,
        fetch: s.fetch,
        keys: {
          primary: this.options.signingKey ?? s.keys.primary,
          fallback: this.options.signingKeyFallback ?? s.keys.fallback,
        },
      };
      await publishRun(transport, channel, jsonSafe(update), {
        runId: run.runId,
        // A repeated request of the same run (the SDK or the server retrying it) publishes nothing again.
        idempotencyKey: `herald-run-lifecycle:${run.runId}:${update.status}`,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      });
    } catch (err) {
      this.report(client, err instanceof Error ? err : new Error(String(err)), update, run);
    }
  }

  private channelOf(run: RunInfo): string | undefined {
    const c = this.options.channel;
    const name = typeof c === 'function' ? c(run) : (c ?? runLifecycleChannel(run.runId));
    if (name === undefined || name === null) return undefined;
    if (typeof name !== 'string' || name === '')
      throw new Error(
        `the channel option gave ${JSON.stringify(name)} for run ${run.runId}, not a channel name`,
      );
    return name;
  }

  private report(client: unknown, error: Error, update: RunUpdate, run: RunInfo): void {
    try {
      if (this.options.onPublishError) {
        this.options.onPublishError(error, update, run);
        return;
      }
      const logger = (client as { logger?: LoggerLike } | undefined)?.logger;
      const text = `[herald/realtime] run lifecycle: publishing "${update.status}" for run ${run.runId} failed; the run is not affected`;
      if (typeof logger?.warn === 'function') logger.warn(text, error);
      else console.warn(text, error);
    } catch {
      // Reporting must not fail the run either.
    }
  }
}

/**
 * The update as JSON will carry it. An output JSON cannot hold (a BigInt, a cycle) must not cost
 * the frame — the status is what subscribers wait for — so it goes without it, saying why.
 */
function jsonSafe(update: RunUpdate): RunUpdate {
  try {
    JSON.stringify(update);
    return update;
  } catch (err) {
    const { output: _dropped, ...rest } = update;
    return { ...rest, outputError: `the output is not JSON-serializable: ${(err as Error).message}` };
  }
}
