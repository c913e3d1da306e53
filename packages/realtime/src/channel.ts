/**
 * Channel definitions. `channel(id | builder)` gives a callable definition; `.addTopic()` returns a
 * new definition (it never mutates one that others already hold — 0.4.7 did); calling the
 * definition gives a channel `{ name, topics, <topic>(data) }`.
 *
 * Topic names `name`, `topics` and `then` are refused (W17): the first two would overwrite the
 * channel's own fields, and a `then` would make every channel a thenable that `await` never settles.
 */
import { RealtimeError, ValidationError } from './errors.js';
import type { Realtime } from './realtime.js';
import { validate } from './schema.js';
import { TopicDefinitionImpl } from './topic.js';

const RESERVED_TOPIC_NAMES = new Set(['name', 'topics', 'then']);

type TopicRecord = Record<string, Realtime.Topic.Definition>;

/** A topic function: validates `data` against the schema (rejecting invalid data) and builds the message. */
function topicFunction(channelName: string, def: Realtime.Topic.Definition) {
  return async (data: unknown): Promise<Realtime.Message.Input> => {
    const schema = def.getSchema();
    if (!schema) return { channel: channelName, topic: def.name, data };
    const result = await validate(schema, data);
    if (!result.ok) throw new ValidationError(channelName, def.name, result.issues, 'publish');
    // The validated value is what is sent, so transforms and defaults take effect.
    return { channel: channelName, topic: def.name, data: result.value };
  };
}

function makeChannel(name: string, topics: TopicRecord): Realtime.Channel {
  const channel: Record<string, unknown> = {};
  for (const [key, def] of Object.entries(topics)) channel[key] = topicFunction(name, def);
  channel.name = name;
  channel.topics = topics;
  return channel as Realtime.Channel;
}

function checkTopicName(name: string): void {
  if (RESERVED_TOPIC_NAMES.has(name))
    throw new RealtimeError(
      'invalid_argument',
      `addTopic(): a topic cannot be named "${name}" (it would clash with the channel's own "${name}"); rename the topic`,
    );
}

function makeDefinition(
  build: (...args: unknown[]) => string,
  topics: TopicRecord,
): Realtime.Channel.Definition {
  const definition = (...args: unknown[]) => {
    const name = build(...args);
    if (typeof name !== 'string' || name.length === 0)
      throw new RealtimeError(
        'invalid_argument',
        `channel builder returned ${String(name)}, not a channel name`,
      );
    return makeChannel(name, topics);
  };
  definition.topics = topics;
  definition.addTopic = (t: Realtime.Topic.Definition) => {
    if (typeof t?.name !== 'string')
      throw new RealtimeError('invalid_argument', 'addTopic(): expected a topic definition from topic(id)');
    checkTopicName(t.name);
    return makeDefinition(build, { ...topics, [t.name]: t });
  };
  return definition as unknown as Realtime.Channel.Definition;
}

export const channel: Realtime.Channel.Builder = ((id: string | ((...args: unknown[]) => string)) => {
  if (typeof id === 'string') {
    if (id.length === 0) throw new RealtimeError('invalid_argument', 'channel(id): id must not be empty');
    return makeDefinition(() => id, {});
  }
  if (typeof id === 'function') return makeDefinition(id, {});
  throw new RealtimeError('invalid_argument', `channel(id): id must be a string or a builder function`);
}) as Realtime.Channel.Builder;

/** Property names the type-only Proxy must not turn into topics (promise, JSON and inspection hooks). */
const NOT_TOPICS = new Set([
  'then',
  'toJSON',
  'constructor',
  'valueOf',
  'toString',
  'inspect',
  'asymmetricMatch',
]);

/**
 * A typed channel built from a definition's *type* alone (`import type`), e.g. in a browser bundle.
 * Any property is a topic function and any `topics.<name>` an untyped topic definition, except the
 * hooks that `await`, `JSON.stringify` and inspectors probe: so awaiting, returning from an async
 * function and serializing work (W16: 0.4.7 hung on `await`).
 */
export const typeOnlyChannel = <
  TChannelDef extends Realtime.Channel.Definition,
  TId extends string = Realtime.Channel.Definition.InferId<TChannelDef>,
  TTopics extends Record<
    string,
    Realtime.Topic.Definition
  > = Realtime.Channel.Definition.InferTopics<TChannelDef>,
  TOutput extends Realtime.Channel = Realtime.Channel<TId, TTopics>,
>(
  id: TId,
): TOutput => {
  if (typeof id !== 'string' || id.length === 0)
    throw new RealtimeError('invalid_argument', 'typeOnlyChannel(id): id must be a non-empty string');
  const topicDefs = new Map<string, Realtime.Topic.Definition>();
  const topicFns = new Map<string, ReturnType<typeof topicFunction>>();
  const topicOf = (name: string) => {
    let def = topicDefs.get(name);
    if (!def) {
      def = new TopicDefinitionImpl(name);
      topicDefs.set(name, def);
    }
    return def;
  };
  const topics = new Proxy({} as TopicRecord, {
    get: (target, prop) => {
      if (typeof prop !== 'string' || NOT_TOPICS.has(prop)) return Reflect.get(target, prop);
      return topicOf(prop);
    },
  });
  const base = { name: id, topics };
  return new Proxy(base, {
    get: (target, prop) => {
      if (typeof prop !== 'string' || prop === 'name' || prop === 'topics' || NOT_TOPICS.has(prop))
        return Reflect.get(target, prop);
      let fn = topicFns.get(prop);
      if (!fn) {
        fn = topicFunction(id, topicOf(prop));
        topicFns.set(prop, fn);
      }
      return fn;
    },
  }) as unknown as TOutput;
};
