/**
 * `@herald/realtime/lifecycle`: the run lifecycle middleware for `inngest` v4. It publishes each
 * run's lifecycle to Herald by itself — started → `running`, finished → `completed` with the
 * output, failed after its last attempt → `failed` with the error — so `useRealtime`'s `runStatus`
 * and `result` work with no code in the function:
 *
 * ```ts
 * import { Inngest, Middleware } from 'inngest';
 * import { runLifecycleMiddleware } from '@herald/realtime/lifecycle';
 *
 * const inngest = new Inngest({
 *   id: 'my-app',
 *   middleware: [runLifecycleMiddleware(Middleware.BaseMiddleware, { channel: ({ event }) => `job:${event.data.id}` })],
 * });
 * ```
 *
 * It is handed v4's `Middleware.BaseMiddleware` rather than importing it: this package serves v3
 * and v4 apps and never imports `inngest` here, so the class it extends is always the app's own.
 * (inngest v3: `runLifecycleMiddleware` from `@herald/realtime/middleware`.) v4 tells middleware of
 * no cancellation; see the README for publishing `cancelled` yourself.
 */
import {
  functionIdOf,
  type RunInfo,
  type RunLifecycleOptions,
  RunLifecycleReporter,
} from './run-lifecycle.js';

export type { RunUpdate } from './publish.js';
export {
  type RunInfo,
  type RunLifecycleOptions,
  runLifecycleChannel,
  serializeRunError,
} from './run-lifecycle.js';
export { isTerminalRunStatus, type RunLifecycle, type RunStatus, runLifecycleOf } from './run-status.js';

/** What v4 passes the run hooks (only what is read here). */
interface HookArgs {
  ctx: { runId: string; event?: unknown };
  fn: unknown;
}

/** `inngest` v4's `Middleware.BaseMiddleware`, or any class shaped like it. */
type BaseMiddlewareClass = abstract new (args: { client: never }) => object;

/**
 * The lifecycle middleware for `inngest` v4: pass `Middleware.BaseMiddleware` (from `inngest`) and
 * the options; put the result in the client's (or a function's) `middleware` list.
 */
export function runLifecycleMiddleware<TBase extends BaseMiddlewareClass>(
  BaseMiddleware: TBase,
  options: RunLifecycleOptions = {},
): new (
  args: ConstructorParameters<TBase>[0],
) => InstanceType<TBase> {
  if (typeof BaseMiddleware !== 'function')
    throw new TypeError(
      "runLifecycleMiddleware(): pass inngest v4's Middleware.BaseMiddleware first (import { Middleware } from 'inngest'); for inngest v3, use runLifecycleMiddleware from '@herald/realtime/middleware'",
    );
  const reporter = new RunLifecycleReporter(options);
  const info = ({ ctx, fn }: HookArgs): RunInfo => ({
    runId: ctx.runId,
    fnId: functionIdOf(fn),
    event: ctx.event,
  });
  const Base = BaseMiddleware as unknown as new (args: { client: unknown }) => { client: unknown };
  class HeraldRunLifecycle extends Base {
    readonly id = 'herald:run-lifecycle';

    /** v4 calls it once per run: on its first request (attempt 0, nothing memoized). */
    async onRunStart(args: HookArgs): Promise<void> {
      await reporter.running(this.client, info(args));
    }

    async onRunComplete(args: HookArgs & { output: unknown }): Promise<void> {
      await reporter.completed(this.client, info(args), args.output);
    }

    /** Called on every failed attempt; only the last one (no retry follows) is the run failing. */
    async onRunError(args: HookArgs & { error: Error; isFinalAttempt: boolean }): Promise<void> {
      if (!args.isFinalAttempt) return;
      await reporter.failed(this.client, info(args), args.error);
    }
  }
  return HeraldRunLifecycle as unknown as new (
    args: ConstructorParameters<TBase>[0],
  ) => InstanceType<TBase>;
}
