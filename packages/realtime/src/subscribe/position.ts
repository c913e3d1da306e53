/**
 * Herald's position of a received message in its channel (`epoch`, `seq`), for apps that show it or
 * store it to resume from later (`subscribe({ since })`).
 *
 * It is kept beside each message object, not on it: messages keep exactly the shape 0.4.7 emits
 * (code that compares, spreads or serializes them sees no new field), and the types stay 0.4.7's.
 */

/** A position in a channel: the channel's epoch and the message's sequence number in it. */
export interface Position {
  epoch: string;
  seq: number;
}

// Weak: a message the app dropped takes its position with it.
const positions = new WeakMap<object, Position>();

/** Records where a message object sits in its channel (the subscription does, for each message). */
export function recordPosition(message: object, position: Position): void {
  positions.set(message, position);
}

/**
 * The position of a message received from `subscribe()` or `useInngestSubscription`, or undefined
 * for a message the server sent without one (a server other than Herald).
 */
export function positionOf(message: object): Position | undefined {
  const p = positions.get(message);
  return p ? { ...p } : undefined;
}
