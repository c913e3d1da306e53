/**
 * @herald/realtime/hooks: React bindings (React 18 or 19, client-side). A superset of
 * @inngest/realtime 0.4.7's `hooks` entry: change the import, keep the component.
 */
export { InngestSubscriptionState } from './state.js';
export type {
  CloseReason,
  HookMessage,
  HookToken,
  InngestSubscription,
  NamedToken,
  ReconnectOptions,
  UseInngestSubscriptionOptions,
} from './types.js';
export { useInngestSubscription } from './use-inngest-subscription.js';
