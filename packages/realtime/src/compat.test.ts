/**
 * Drop-in compatibility with @inngest/realtime 0.4.7 (a devDependency, for this check only): our
 * `Realtime` types equal theirs for the same definitions, and the seed's examples compile against ours.
 */
import type { Realtime as Theirs } from '@inngest/realtime';
import { Inngest } from 'inngest';
import { describe, expectTypeOf, it } from 'vitest';
import { channel, getSubscriptionToken, type Realtime as Ours, subscribe, topic } from './index.js';
import { realtimeMiddleware } from './middleware.js';

type OurTopics = {
  created: Ours.Topic.Definition<'created', { id: string }>;
  updated: Ours.Topic.Definition<'updated', boolean>;
};
type TheirTopics = {
  created: Theirs.Topic.Definition<'created', { id: string }>;
  updated: Theirs.Topic.Definition<'updated', boolean>;
};

describe('types equal 0.4.7 (each with its own topic definitions)', () => {
  it('Message and Message.Input', () => {
    expectTypeOf<Ours.Message<'c', OurTopics>>().toEqualTypeOf<Theirs.Message<'c', TheirTopics>>();
    expectTypeOf<Ours.Message.Input<'c', 't', number>>().toEqualTypeOf<
      Theirs.Message.Input<'c', 't', number>
    >();
  });

  it('topic inference', () => {
    expectTypeOf<Ours.Topic.InferPublish<OurTopics['updated']>>().toEqualTypeOf<
      Theirs.Topic.InferPublish<TheirTopics['updated']>
    >();
    expectTypeOf<Ours.Topic.InferSubscribe<OurTopics['created']>>().toEqualTypeOf<
      Theirs.Topic.InferSubscribe<TheirTopics['created']>
    >();
  });

  it('subscription messages from a token', () => {
    type OurMsg = Ours.Subscribe.Token.InferMessage<
      Ours.Subscribe.Token<Ours.Channel<'c', OurTopics>, ['created']>
    >;
    type TheirMsg = Theirs.Subscribe.Token.InferMessage<
      Theirs.Subscribe.Token<Theirs.Channel<'c', TheirTopics>, ['created']>
    >;
    expectTypeOf<OurMsg>().toEqualTypeOf<TheirMsg>();
  });

  it('a channel has the same keys and topic-function types', () => {
    type OurCh = Ours.Channel<'c', OurTopics>;
    type TheirCh = Theirs.Channel<'c', TheirTopics>;
    expectTypeOf<keyof OurCh>().toEqualTypeOf<keyof TheirCh>();
    expectTypeOf<OurCh['created']>().toEqualTypeOf<TheirCh['created']>();
    const def = channel('c').addTopic(topic('created').type<{ id: string }>());
    expectTypeOf<Ours.Token<typeof def, ['created']>['topics']>().toEqualTypeOf<['created']>();
  });
});

describe("the seed's examples compile", () => {
  it('subscribe, callback, token, middleware publish', () => {
    const _fn = async () => {
      const stream = await subscribe({ channel: 'my-channel', topics: ['created', 'updated'] });
      for await (const message of stream) {
        if (message.topic === 'created') console.log('New item created:', message.data);
      }
      await subscribe({ channel: 'my-channel', topics: ['created', 'updated'] }, (message) =>
        console.log(message),
      );
      const app = new Inngest({ id: 'my-app' });
      const token = await getSubscriptionToken(app, {
        channel: 'my-channel',
        topics: ['created', 'updated'],
      });
      const _s = await subscribe(token);
      const json: ReadableStream = _s.getJsonStream();
      const encoded: ReadableStream<Uint8Array> = _s.getEncodedStream();
      void json;
      void encoded;

      const inngest = new Inngest({ id: 'my-app', middleware: [realtimeMiddleware()] });
      inngest.createFunction({ id: 'my-function' }, { event: 'app/event' }, async ({ publish }) => {
        const data = await publish({
          channel: 'my-channel',
          topic: 'created',
          data: { id: '123', name: 'Example' },
        });
        expectTypeOf(data).toEqualTypeOf<{ id: string; name: string }>();
      });
    };
  });
});
