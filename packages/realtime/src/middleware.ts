/**
 * `realtimeMiddleware()` for the `inngest` v3 SDK: adds `publish` to every function's context, as
 * @inngest/realtime 0.4.7 did.
 *
 * - Outside a step, `publish(ch().topic(data))` runs as a durable step named `publish:<channel>`, so a
 *   retried or replayed function does not publish again (each such publish is one step, W25).
 * - Inside `step.run`, it publishes directly (the step is already durable).
 * - It sends the run id (`run_id`), the data JSON-encoded, an Idempotency-Key, and the hashed
 *   signing key, to the client's base URL (or the environment's, as the SDK resolves it).
 * - The data was validated by the topic function (invalid data rejects, W13).
 *
 * inngest v4 has no `InngestMiddleware`; there, use v4's own `inngest.realtime.publish` /
 * `step.realtime.publish` with the client's `baseUrl` pointing at Herald, or the `Realtime` client.
 */
import { InngestMiddleware } from 'inngest';
import { getAsyncCtx } from 'inngest/experimental';
import { settingsFor } from './app.js';
import { RealtimeError } from './errors.js';
import { publishMessage } from './publish.js';
import type { Realtime } from './realtime.js';
import type { SigningKeys } from './signing-key.js';

export * from './realtime.js';
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
