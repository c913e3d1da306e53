/**
 * Middleware for the `inngest` v3 SDK:
 *
 * `realtimeMiddleware()` adds `publish` to every function's context, as @inngest/realtime 0.4.7 did.
 *
 * - Outside a step, `publish(ch().topic(data))` runs as a durable step named `publish:<channel>`, so a
 *   retried or replayed function does not publish again (each such publish is one step, W25).
 * - Inside `step.run`, it publishes directly (the step is already durable).
 * - It sends the run id (`run_id`), the data JSON-encoded, an Idempotency-Key, and the hashed
 *   signing key, to the client's base URL (or the environment's, as the SDK resolves it).
 * - The data was validated by the topic function (invalid data rejects, W13).
 *
 * `runLifecycleMiddleware()` publishes each run's lifecycle to Herald by itself (`running` when it
 * starts, `completed` with its output, `failed` with its error after the last attempt), for
 * `useRealtime`'s `runStatus` and `result` (see `run-lifecycle.ts`).
 *
 * inngest v4 has no `InngestMiddleware`; there, use v4's own `inngest.realtime.publish` /
 * `step.realtime.publish` with the client's `baseUrl` pointing at Herald, or the `Realtime` client,
 * and `@herald/realtime/lifecycle` for the lifecycle.
 */
import { InngestMiddleware } from 'inngest';
import { getAsyncCtx } from 'inngest/experimental';
import { settingsFor } from './app.js';
import { RealtimeError } from './errors.js';
import { publishMessage } from './publish.js';
import type { Realtime } from './realtime.js';
import {
  functionIdOf,
  type RunInfo,
  type RunLifecycleOptions,
  RunLifecycleReporter,
} from './run-lifecycle.js';
import type { SigningKeys } from './signing-key.js';

export * from './realtime.js';
export { type RunInfo, type RunLifecycleOptions, runLifecycleChannel } from './run-lifecycle.js';
export type { Expect, IsEqual, IsLiteral, IsStringLiteral, MaybePromise, Simplify } from './util-types.js';

export interface RealtimeMiddlewareOptions {
  /** Herald's URL. Default: the inngest client's base URL, else the environment's. */
  baseUrl?: string;
  /** Default: the key the inngest client uses, else `INNGEST_SIGNING_KEY`. */
  signingKey?: string;
  signingKeyFallback?: string;
}

type Client = Parameters<ConstructorParameters<typeof InngestMiddleware>[0]['init']>[0]['client'];

function transportFor(client: Client, options: RealtimeMiddlewareOptions) {
  // Resolved per publish: `serve()` sets the client's signing key after the middleware's init.
  const s = settingsFor(client as unknown as Parameters<typeof settingsFor>[0], options.baseUrl);
  const keys: SigningKeys = {
    primary: options.signingKey ?? s.keys.primary,
    fallback: options.signingKeyFallback ?? s.keys.fallback,
  };
  return { baseUrl: s.baseUrl, keys };
}

export const realtimeMiddleware = (options: RealtimeMiddlewareOptions = {}) =>
  new InngestMiddleware({
    name: 'publish',
    init({ client }) {
      return {
        onFunctionRun({ ctx: { runId } }) {
          return {
            transformInput({ ctx: { step } }) {
              const publish: Realtime.PublishFn = async (input) => {
                const message = await input;
                if (typeof message?.channel !== 'string' || typeof message.topic !== 'string')
                  throw new RealtimeError(
                    'invalid_argument',
                    'publish(): expected a message from a topic function, e.g. publish(myChannel().myTopic(data))',
                  );
                const send = async () => {
                  await publishMessage(transportFor(client, options), message, { runId });
                  return message.data;
                };
                const als = await getAsyncCtx();
                // Already inside a step: it is durable as it is (and steps cannot nest).
                if (als?.execution?.executingStep) await send();
                else await step.run(`publish:${message.channel}`, send);
                return message.data;
              };
              return { ctx: { publish } };
            },
          };
        },
      };
    },
  });

/** What v3 passes `transformInput` (only what is read here). */
interface RunContext {
  runId: string;
  event?: unknown;
  attempt?: number;
  maxAttempts?: number;
}

/** v3's default retries when a function sets none (4 attempts). */
const V3_DEFAULT_RETRIES = 3;

/**
 * Whether a failed attempt is the run's last, as v3 decides it: a NonRetriableError, a step's
 * final failure rethrown (StepError), or the attempts used up.
 */
function isFinalAttempt(ctx: RunContext, fn: unknown, error: unknown): boolean {
  const name = (error as { name?: unknown } | null | undefined)?.name;
  if (name === 'NonRetriableError' || name === 'StepError') return true;
  const retries = (fn as { opts?: { retries?: unknown } } | undefined)?.opts?.retries;
  const maxAttempts = ctx.maxAttempts ?? (typeof retries === 'number' ? retries : V3_DEFAULT_RETRIES) + 1;
  return (ctx.attempt ?? 0) + 1 >= maxAttempts;
}

/**
 * The run lifecycle middleware for `inngest` v3: `new Inngest({ middleware: [runLifecycleMiddleware()] })`.
 * Its frames go to `run:<runId>` unless `channel` says otherwise (e.g.
 * `({ event }) => \`job:${event.data.id}\``). Publishing failures are logged, never thrown.
 */
export const runLifecycleMiddleware = (options: RunLifecycleOptions = {}) => {
  const reporter = new RunLifecycleReporter(options);
  return new InngestMiddleware({
    name: 'herald:run-lifecycle',
    init({ client }) {
      return {
        onFunctionRun({ ctx: initial, fn }) {
          // The context the function runs with (attempt, maxAttempts) comes with transformInput.
          let ctx = initial as RunContext;
          const info = (): RunInfo => ({ runId: ctx.runId, fnId: functionIdOf(fn), event: ctx.event });
          return {
            async transformInput({ ctx: runCtx, steps }) {
              ctx = runCtx as unknown as RunContext;
              // The run's first request: nothing memoized, first attempt.
              if (steps.length === 0 && (ctx.attempt ?? 0) === 0) await reporter.running(client, info());
            },
            async finished({ result }) {
              if (result.error !== undefined) {
                if (isFinalAttempt(ctx, fn, result.error))
                  await reporter.failed(client, info(), result.error);
                return;
              }
              await reporter.completed(client, info(), result.data);
            },
          };
        },
      };
    },
  });
};
