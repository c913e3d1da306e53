/**
 * The hook's types match @inngest/realtime 0.4.7's (a devDependency, for this check only): the same
 * state enum values, the same message types for a typed token; and the seed's plain token, which
 * 0.4.7's types refuse, is accepted and typed by its topic names.
 */
import type { Realtime as Theirs } from '@inngest/realtime';
import {
  InngestSubscriptionState as TheirState,
  type InngestSubscription as TheirSubscription,
  type useInngestSubscription as theirHook,
} from '@inngest/realtime/hooks';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Realtime as Ours } from '../realtime.js';
import { type InngestSubscription, InngestSubscriptionState, useInngestSubscription } from './index.js';

type OurTopics = {
  created: Ours.Topic.Definition<'created', { id: string }>;
  updated: Ours.Topic.Definition<'updated', boolean>;
};
type TheirTopics = {
  created: Theirs.Topic.Definition<'created', { id: string }>;
  updated: Theirs.Topic.Definition<'updated', boolean>;
};
type OurToken = Ours.Subscribe.Token<Ours.Channel<'c', OurTopics>, ['created', 'updated']>;
type TheirToken = Theirs.Subscribe.Token<Theirs.Channel<'c', TheirTopics>, ['created', 'updated']>;

describe('types equal 0.4.7', () => {
  it('the state enum', () => {
    expect({ ...InngestSubscriptionState }).toEqual({ ...TheirState });
  });

  it("the result's messages for a typed token", () => {
    type Ours_ = InngestSubscription<OurToken>;
    type Theirs_ = TheirSubscription<TheirToken>;
    expectTypeOf<Ours_['data']>().toEqualTypeOf<Theirs_['data']>();
    expectTypeOf<Ours_['latestData']>().toEqualTypeOf<Theirs_['latestData']>();
    expectTypeOf<Ours_['freshData']>().toEqualTypeOf<Theirs_['freshData']>();
    expectTypeOf<Ours_['error']>().toEqualTypeOf<Theirs_['error']>();
    // Ours is a superset: it can be used wherever theirs was.
    expectTypeOf<Omit<Ours_, 'state' | 'reset' | 'closeReason'>>().toEqualTypeOf<Omit<Theirs_, 'state'>>();
  });

  it('the options', () => {
    type TheirOptions = Parameters<typeof theirHook<TheirToken>>[0];
    type OurOptions = Parameters<typeof useInngestSubscription<OurToken>>[0];
    expectTypeOf<keyof TheirOptions>().toExtend<keyof OurOptions>();
    expectTypeOf<OurOptions['bufferInterval']>().toEqualTypeOf<TheirOptions['bufferInterval']>();
    expectTypeOf<OurOptions['enabled']>().toEqualTypeOf<TheirOptions['enabled']>();
    expectTypeOf<OurOptions['key']>().toEqualTypeOf<TheirOptions['key']>();
  });
});

describe('message types are inferred from the token', () => {
  it("from the seed's plain token", () => {
    const _use = () => {
      const { data } = useInngestSubscription({
        token: { channel: 'my-channel', topics: ['created', 'updated'], key: 'my-token' },
      });
      expectTypeOf(data[0]!.topic).toEqualTypeOf<'created' | 'updated'>();
      expectTypeOf(data[0]!.channel).toEqualTypeOf<'my-channel'>();
    };
    void _use;
  });

  it('from a typed token, narrowing by topic', () => {
    const _use = (token: OurToken) => {
      const { latestData } = useInngestSubscription({ token });
      if (latestData?.kind === 'data' && latestData.topic === 'created')
        expectTypeOf(latestData.data).toEqualTypeOf<{ id: string }>();
    };
    void _use;
  });

  it('from refreshToken alone', () => {
    const _use = (refreshToken: () => Promise<OurToken>) => {
      const { freshData } = useInngestSubscription({ refreshToken });
      expectTypeOf(freshData).toEqualTypeOf<Ours.Subscribe.Token.InferMessage<OurToken>[]>();
    };
    void _use;
  });
});
