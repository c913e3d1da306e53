/**
 * @herald/realtime: channels and topics, subscribe, tokens and publish for Herald (and any server
 * speaking Inngest Realtime's protocol). A superset of @inngest/realtime 0.4.7's root entry.
 */
export type { AppLike, InngestAppLike } from './app.js';
export { CLOUD_URL, DEV_SERVER_URL, resolveBaseUrl } from './base-url.js';
export { channel, typeOnlyChannel } from './channel.js';
export { actionForCloseCode, type CloseCode, CloseCodes } from './close-codes.js';
export {
  ApiError,
  BufferOverflowError,
  ConnectionError,
  RealtimeError,
  type RealtimeErrorCode,
  ValidationError,
} from './errors.js';
export type {
  PublishAck,
  PublishOptions,
  RunPublishAck,
  RunUpdate,
  StreamPublishAck,
  StreamSource,
} from './publish.js';
export { Realtime, type RealtimeOptions } from './realtime.js';
export { isTerminalRunStatus, type RunLifecycle, type RunStatus, runLifecycleOf } from './run-status.js';
export type { BackoffOptions } from './subscribe/backoff.js';
export { type Position, positionOf } from './subscribe/position.js';
export { getSubscriptionToken, type SubscribeOptions, subscribe } from './subscribe/subscribe.js';
export type { StateInfo, SubscriptionState } from './subscribe/subscription.js';
export { TopicDefinitionImpl, topic } from './topic.js';
export type { Expect, IsEqual, IsLiteral, IsStringLiteral, MaybePromise, Simplify } from './util-types.js';
export type { WebSocketConstructor, WebSocketLike } from './websocket.js';
