/**
 * The 34 type tests of @inngest/realtime 0.4.7's index.test.ts (inngest-client-api.md §3.1), ported:
 * `tsc -p tsconfig.test.json` checks every `expectTypeOf` and `@ts-expect-error`. Bodies that would
 * open sockets are wrapped in functions that are never called (the checks are compile-time).
 */
import { Inngest } from 'inngest';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { channel, getSubscriptionToken, type Realtime, subscribe, topic, typeOnlyChannel } from './index.js';

// biome-ignore lint/suspicious/noExplicitAny: the untyped payload is `any`, which is what these tests assert.
type Any = any;

const created = topic('created').schema(z.object({ id: z.string(), name: z.string() }));
const updated = topic('updated').type<boolean>();
const unused = topic('unused').type<number>();
const staticChannel = channel('static').addTopic(created).addTopic(updated).addTopic(unused);
const userChannel = channel((id: string) => `user/${id}`)
  .addTopic(created)
  .addTopic(updated)
  .addTopic(unused);
const app = new Inngest({ id: 'type-tests' });

type Created = { id: string; name: string };

describe('topic', () => {
  it('1 can create a blank topic', () => {
    const t = topic('test');
    expect(t).toBeDefined();
    expect(t.name).toBe('test');
    expectTypeOf(t.name).toEqualTypeOf<'test'>();
    expect(t.getSchema()).toBeUndefined();
    expectTypeOf<Realtime.Topic.InferPublish<typeof t>>().toBeAny();
    expectTypeOf<Realtime.Topic.InferSubscribe<typeof t>>().toBeAny();
  });

  it('2 topic ID must be a string', () => {
    const _f = () => {
      // @ts-expect-error a number is not an id
      topic(1);
      // @ts-expect-error an object is not an id
      topic({});
      // @ts-expect-error undefined is not an id
      topic(undefined);
      // @ts-expect-error an id is required
      topic();
      // @ts-expect-error null is not an id
      topic(null);
      // @ts-expect-error a boolean is not an id
      topic(true);
    };
  });

  it('3 can type a topic', () => {
    const t = topic('test').type<string>();
    expectTypeOf<Realtime.Topic.InferPublish<typeof t>>().toEqualTypeOf<string>();
    expectTypeOf<Realtime.Topic.InferSubscribe<typeof t>>().toEqualTypeOf<string>();
    expect(t.getSchema()).toBeUndefined();
  });

  it("4 can overwrite a topic's type", () => {
    const t = topic('test').type<string>().type<number>();
    expectTypeOf<Realtime.Topic.InferPublish<typeof t>>().toEqualTypeOf<number>();
    expectTypeOf<Realtime.Topic.InferSubscribe<typeof t>>().toEqualTypeOf<number>();
  });

  it('5 can add a schema to a topic', () => {
    const t = topic('test').schema(z.string());
    expect(t.getSchema()).toBeDefined();
    expectTypeOf<Realtime.Topic.InferPublish<typeof t>>().toEqualTypeOf<string>();
    expectTypeOf<Realtime.Topic.InferSubscribe<typeof t>>().toEqualTypeOf<string>();
  });

  it('5b publish type is the schema input, subscribe type its output', () => {
    const t = topic('n').schema(z.string().transform((s) => s.length));
    expectTypeOf<Realtime.Topic.InferPublish<typeof t>>().toEqualTypeOf<string>();
    expectTypeOf<Realtime.Topic.InferSubscribe<typeof t>>().toEqualTypeOf<number>();
  });

  it('6 schema must be a valid schema', () => {
    const _f = () => {
      // @ts-expect-error not a Standard Schema
      topic('test').schema({});
      // @ts-expect-error undefined is not a schema
      topic('test').schema(undefined);
      // @ts-expect-error a schema is required
      topic('test').schema();
      // @ts-expect-error null is not a schema
      topic('test').schema(null);
      // @ts-expect-error a boolean is not a schema
      topic('test').schema(true);
    };
  });
});

describe('channel', () => {
  it('7 can create a blank channel', () => {
    const c = channel('test');
    expect(c).toBeInstanceOf(Function);
    expectTypeOf(c).toMatchTypeOf<Realtime.Channel.Definition>();
  });

  it('8 running a static channel definition gets a channel', () => {
    const c = staticChannel();
    expect(c.name).toBe('static');
    expect(c.created).toBeInstanceOf(Function);
    expect(c.updated).toBeInstanceOf(Function);
  });

  it('9 running a dynamic channel definition gets a channel', () => {
    const c = userChannel('123');
    expect(c.name).toBe('user/123');
    expect(c.created).toBeInstanceOf(Function);
    expect(c.updated).toBeInstanceOf(Function);
  });

  it('10 channel ID must be a string or a builder', () => {
    const _f = () => {
      // @ts-expect-error a number is not an id
      channel(1);
      // @ts-expect-error an object is not an id
      channel({});
      // @ts-expect-error null is not an id
      channel(null);
      // @ts-expect-error an id is required
      channel();
    };
  });

  it('11 can create a blank dynamic channel', () => {
    const c = channel((id: string) => `user/${id}`);
    expect(c).toBeInstanceOf(Function);
  });

  it('12 can add a topic to a channel', () => {
    const c = channel('test').addTopic(created);
    expect(c().created).toBeDefined();
    expectTypeOf(c().created).toBeFunction();
  });

  it('13 can add multiple topics to a channel', () => {
    const c = channel('test').addTopic(created).addTopic(updated);
    expect(c().created).toBeDefined();
    expect(c().updated).toBeDefined();
    expectTypeOf(c().updated).parameter(0).toEqualTypeOf<boolean>();
  });

  it('14 can create a static channel using the types of another channel', () => {
    const c = typeOnlyChannel<typeof staticChannel>('static');
    expect(c.topics.created).toBeDefined();
    expect(c.topics.updated).toBeDefined();
    expect(c.created).toBeDefined();
    expect(c.updated).toBeDefined();
    expectTypeOf(c.created).parameter(0).toEqualTypeOf<Created>();
  });

  it('15 static channel ID must be correct when using the types of another channel', () => {
    const _f = () => {
      // @ts-expect-error "staatic" is not "static"
      typeOnlyChannel<typeof staticChannel>('staatic');
    };
  });

  it('16 can create a dynamic channel using the types of another channel', () => {
    const c = typeOnlyChannel<typeof userChannel>('user/123');
    expect(c.created).toBeDefined();
    expect(c.updated).toBeDefined();
  });

  it('17 dynamic channel ID must be correct when using the types of another channel', () => {
    const _f = () => {
      // @ts-expect-error "foo" does not match `user/${string}`
      typeOnlyChannel<typeof userChannel>('foo');
    };
  });
});

describe('subscribe: strings only', () => {
  it('18 can subscribe with just strings', () => {
    const _fn = async () => {
      const stream = await subscribe({ channel: 'test', topics: ['foo', 'bar'] }, (message) => {
        expectTypeOf(message.channel).toEqualTypeOf<'test'>();
        expectTypeOf(message.topic).toEqualTypeOf<'foo' | 'bar'>();
        expectTypeOf(message.data).toBeAny();
      });
      for await (const message of stream) {
        expectTypeOf(message.channel).toEqualTypeOf<'test'>();
        expectTypeOf(message.topic).toEqualTypeOf<'foo' | 'bar'>();
        expectTypeOf(message.data).toBeAny();
      }
      const { value } = await stream.getReader().read();
      if (value) {
        expectTypeOf(value.channel).toEqualTypeOf<'test'>();
        expectTypeOf(value.topic).toEqualTypeOf<'foo' | 'bar'>();
        expectTypeOf(value.data).toBeAny();
      }
    };
  });
});

describe('subscribe: type-only channel import', () => {
  it('19 errors if channel name is incorrect', () => {
    const _fn = async () => {
      await subscribe({
        // @ts-expect-error wrong id
        channel: typeOnlyChannel<typeof staticChannel>('staatic'),
        topics: ['created'],
      });
    };
  });

  it('20 errors if topic names are incorrect with static channel', () => {
    const _fn = async () => {
      await subscribe({
        channel: typeOnlyChannel<typeof staticChannel>('static'),
        // @ts-expect-error no topic "test"
        topics: ['test'],
      });
    };
  });

  it('21 errors if topic names are incorrect with dynamic channel', () => {
    const _fn = async () => {
      await subscribe({
        channel: typeOnlyChannel<typeof userChannel>('user/123'),
        // @ts-expect-error no topic "test"
        topics: ['test'],
      });
    };
  });

  it('22 can subscribe using types only of a static channel', () => {
    const _fn = async () => {
      const check = (m: { channel: string; topic: string; data: unknown }) => m;
      const stream = await subscribe(
        { channel: typeOnlyChannel<typeof staticChannel>('static'), topics: ['created', 'updated'] },
        (message) => {
          check(message);
          expectTypeOf(message.channel).toEqualTypeOf<'static'>();
          expectTypeOf(message.topic).toEqualTypeOf<'created' | 'updated'>();
          if (message.topic === 'created') expectTypeOf(message.data).toEqualTypeOf<Created>();
          else expectTypeOf(message.data).toEqualTypeOf<boolean>();
        },
      );
      for await (const message of stream) {
        expectTypeOf(message.channel).toEqualTypeOf<'static'>();
        if (message.topic === 'created') expectTypeOf(message.data).toEqualTypeOf<Created>();
        else expectTypeOf(message.data).toEqualTypeOf<boolean>();
      }
      const { value } = await stream.getReader().read();
      if (value?.topic === 'updated') expectTypeOf(value.data).toEqualTypeOf<boolean>();
    };
  });

  it('23 can subscribe using types only of a dynamic channel', () => {
    const _fn = async () => {
      const stream = await subscribe(
        { channel: typeOnlyChannel<typeof userChannel>('user/123'), topics: ['created', 'updated'] },
        (message) => {
          expectTypeOf(message.channel).toEqualTypeOf<`user/${string}`>();
          if (message.topic === 'created') expectTypeOf(message.data).toEqualTypeOf<Created>();
          else expectTypeOf(message.data).toEqualTypeOf<boolean>();
        },
      );
      for await (const message of stream) {
        expectTypeOf(message.channel).toEqualTypeOf<`user/${string}`>();
        if (message.topic === 'updated') expectTypeOf(message.data).toEqualTypeOf<boolean>();
      }
      const { value } = await stream.getReader().read();
      if (value?.topic === 'created') expectTypeOf(value.data).toEqualTypeOf<Created>();
    };
  });
});

describe('subscribe: runtime channel import', () => {
  it('24 errors if static definition given', () => {
    const _fn = async () => {
      // @ts-expect-error the definition must be called: staticChannel()
      await subscribe({ channel: staticChannel, topics: ['created'] });
    };
  });

  it('25 errors if dynamic definition given', () => {
    const _fn = async () => {
      // @ts-expect-error the definition must be called: userChannel("123")
      await subscribe({ channel: userChannel, topics: ['created'] });
    };
  });

  it('26 errors if topic names are incorrect with static channel', () => {
    const _fn = async () => {
      // @ts-expect-error no topic "test"
      await subscribe({ channel: staticChannel(), topics: ['test'] });
    };
  });

  it('27 errors if topic names are incorrect with dynamic channel', () => {
    const _fn = async () => {
      // @ts-expect-error no topic "test"
      await subscribe({ channel: userChannel('123'), topics: ['test'] });
    };
  });

  it('28 can subscribe with runtime import of a static channel', () => {
    const _fn = async () => {
      const stream = await subscribe({ channel: staticChannel(), topics: ['created', 'updated'] });
      for await (const message of stream) {
        expectTypeOf(message.topic).toEqualTypeOf<'created' | 'updated'>();
        if (message.topic === 'created') expectTypeOf(message.data).toEqualTypeOf<Created>();
        else expectTypeOf(message.data).toEqualTypeOf<boolean>();
      }
      const { value } = await stream.getReader().read();
      if (value?.topic === 'updated') expectTypeOf(value.data).toEqualTypeOf<boolean>();
    };
  });

  it('29 can subscribe with runtime import of a dynamic channel', () => {
    const _fn = async () => {
      const stream = await subscribe({ channel: userChannel('123'), topics: ['created', 'updated'] });
      for await (const message of stream) {
        if (message.topic === 'created') expectTypeOf(message.data).toEqualTypeOf<Created>();
        else expectTypeOf(message.data).toEqualTypeOf<boolean>();
      }
      const { value } = await stream.getReader().read();
      if (value?.topic === 'updated') expectTypeOf(value.data).toEqualTypeOf<boolean>();
    };
  });
});

describe('subscribe: tokens', () => {
  it('30 can subscribe with a string-only token', () => {
    const _fn = async () => {
      const token = await getSubscriptionToken(app, { channel: 'test', topics: ['foo', 'bar'] });
      const stream = await subscribe(token);
      for await (const message of stream) {
        expectTypeOf(message.topic).toEqualTypeOf<'foo' | 'bar'>();
        expectTypeOf(message.data).toBeAny();
      }
    };
  });

  it('31 can subscribe with a type-only import static typed token', () => {
    const _fn = async () => {
      const token = await getSubscriptionToken(app, {
        channel: typeOnlyChannel<typeof staticChannel>('static'),
        topics: ['created', 'updated'],
      });
      const stream = await subscribe(token);
      for await (const message of stream) {
        expectTypeOf(message.channel).toEqualTypeOf<'static'>();
        if (message.topic === 'created') expectTypeOf(message.data).toEqualTypeOf<Created>();
        else expectTypeOf(message.data).toEqualTypeOf<boolean>();
      }
    };
  });

  it('32 can subscribe with a runtime import static typed token', () => {
    const _fn = async () => {
      const token = await getSubscriptionToken(app, {
        channel: staticChannel(),
        topics: ['created', 'updated'],
      });
      const stream = await subscribe(token);
      for await (const message of stream) {
        if (message.topic === 'created') expectTypeOf(message.data).toEqualTypeOf<Created>();
        else expectTypeOf(message.data).toEqualTypeOf<boolean>();
      }
    };
  });

  it('33 can subscribe with a type-only import dynamic typed token', () => {
    const _fn = async () => {
      const token = await getSubscriptionToken(app, {
        channel: typeOnlyChannel<typeof userChannel>('user/123'),
        topics: ['created', 'updated'],
      });
      const stream = await subscribe(token);
      for await (const message of stream) {
        expectTypeOf(message.channel).toEqualTypeOf<`user/${string}`>();
        if (message.topic === 'created') expectTypeOf(message.data).toEqualTypeOf<Created>();
        else expectTypeOf(message.data).toEqualTypeOf<boolean>();
      }
    };
  });

  it('34 can subscribe with a runtime import dynamic typed token', () => {
    const _fn = async () => {
      const token = await getSubscriptionToken(app, {
        channel: userChannel('123'),
        topics: ['created', 'updated'],
      });
      const stream = await subscribe(token);
      for await (const message of stream) {
        if (message.topic === 'created') expectTypeOf(message.data).toEqualTypeOf<Created>();
        else expectTypeOf(message.data).toEqualTypeOf<boolean>();
      }
    };
  });
});

describe('Herald additions (types)', () => {
  it('Realtime.Token names what a server action returns', () => {
    type T = Realtime.Token<typeof staticChannel, ['created']>;
    expectTypeOf<T['topics']>().toEqualTypeOf<['created']>();
    expectTypeOf<T['key']>().toEqualTypeOf<string | undefined>();
  });

  it('subscribe() has close/unsubscribe and typed onMessage', () => {
    const _fn = async () => {
      const sub = await subscribe({
        channel: staticChannel(),
        topics: ['updated'],
        onMessage: (m) => {
          expectTypeOf(m.data).toEqualTypeOf<boolean>();
        },
        onError: (e) => expectTypeOf(e).toEqualTypeOf<Error>(),
      });
      expectTypeOf(sub.close).toBeFunction();
      expectTypeOf(sub.unsubscribe).toBeFunction();
      expectTypeOf(sub.getEncodedStream({ format: 'sse' })).toMatchTypeOf<ReadableStream<Uint8Array>>();
    };
  });

  it('a topic function takes the publish type', () => {
    const _fn = async () => {
      // @ts-expect-error updated takes a boolean
      await staticChannel().updated('yes');
      const m = await staticChannel().created({ id: '1', name: 'n' });
      expectTypeOf(m.topic).toEqualTypeOf<'created'>();
    };
  });

  it('Any is any (helper sanity)', () => {
    expectTypeOf<Any>().toBeAny();
  });
});
