/**
 * Topic definitions: a name, and optionally a compile-time type (`.type<T>()`) or a Standard Schema
 * (`.schema(s)`; publish type = the schema's input, subscribe type = its output).
 * Definitions are immutable: `.schema()` returns a new one, `.type()` only changes the static type.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { RealtimeError } from './errors.js';
import type { Realtime } from './realtime.js';
import { isStandardSchema } from './schema.js';

// biome-ignore lint/suspicious/noExplicitAny: an untyped topic's payload is `any`, as in 0.4.7.
type AnyData = any;

export class TopicDefinitionImpl<TTopicId extends string = string, TPublish = AnyData, TSubscribe = TPublish>
  implements Realtime.Topic.Definition<TTopicId, TPublish, TSubscribe>
{
  readonly #schema: StandardSchemaV1 | undefined;
  readonly name: TTopicId;

  constructor(name: TTopicId, schema?: StandardSchemaV1) {
    if (typeof name !== 'string' || name.length === 0)
      throw new RealtimeError(
        'invalid_argument',
        `topic(id): id must be a non-empty string, got ${String(name)}`,
      );
    if (schema !== undefined && !isStandardSchema(schema))
      throw new RealtimeError('invalid_argument', `topic("${name}").schema(): not a Standard Schema`);
    this.name = name;
    this.#schema = schema;
  }

  /** Sets the payload type. Types only: the same definition is returned. */
  type<const UPublish, const USubscribe = UPublish>(): Realtime.Topic.Definition<
    TTopicId,
    UPublish,
    USubscribe
  > {
    return this as unknown as Realtime.Topic.Definition<TTopicId, UPublish, USubscribe>;
  }

  schema<const TSchema extends StandardSchemaV1>(
    schema: TSchema,
  ): Realtime.Topic.Definition<
    TTopicId,
    StandardSchemaV1.InferInput<TSchema>,
    StandardSchemaV1.InferOutput<TSchema>
  > {
    return new TopicDefinitionImpl(this.name, schema);
  }

  getSchema(): StandardSchemaV1 | undefined {
    return this.#schema;
  }

  /** `JSON.stringify(topic)` gives `{"name":…}` (the schema is code, not data). */
  toJSON(): { name: TTopicId } {
    return { name: this.name };
  }
}

export const topic: Realtime.Topic.Builder = (id) => new TopicDefinitionImpl(id);
