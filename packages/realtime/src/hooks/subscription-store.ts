/**
 * What one hook shows, kept outside React and read through `useSyncExternalStore`.
 *
 * - Messages are appended in batches: arrivals wait in a list, and the arrays React sees are rebuilt
 *   only when it reads a new snapshot — once per render, not once per message (0.4.7 copied the
 *   whole history on every message, W20).
 * - Renders are asked for at most once per task, so a burst renders once, not once per message.
 * - `freshData` holds every message since the last snapshot that reached the screen: if React skips
 *   a snapshot (batching), its messages are carried into the next one (0.4.7 kept only the last
 *   message of a burst, W19). `rendered()` is how the hook reports what reached the screen.
 * - With a buffer interval, arrivals are held and released in one batch per tick (and when the
 *   interval changes, the component unmounts or the connection ends: nothing is left behind).
 */
import { InngestSubscriptionState } from './state.js';
import type { CloseReason } from './types.js';

export interface Snapshot<T> {
  readonly version: number;
  readonly data: T[];
  readonly latestData: T | null;
  readonly freshData: T[];
  readonly error: Error | null;
  readonly state: InngestSubscriptionState;
  readonly closeReason: CloseReason | null;
}

export interface Status {
  state: InngestSubscriptionState;
  error: Error | null;
  closeReason: CloseReason | null;
}

// Shared by every empty snapshot; frozen so that a caller mutating `data` fails loudly instead of
// changing it for everyone.
const NONE = Object.freeze([]) as never[];

export class SubscriptionStore<T> {
  #snapshot: Snapshot<T>;
  /** Messages that will appear in the next snapshot. */
  #arrived: T[] = [];
  /** Messages held until the next buffer release (bufferInterval > 0). */
  #held: T[] = [];
  #holding = false;
  #status: Status;
  #historyLimit: number | undefined;
  #dirty = false;
  /** `reset()` was called: the next snapshot starts empty. */
  #reset = false;
  /** The version whose snapshot started the current `freshData`. */
  #freshSince = 0;
  /** The newest version that reached the screen. */
  #rendered = 0;
  #notifyScheduled = false;
  readonly #listeners = new Set<() => void>();
  /** Who may set the status: the newest connection (an older one may still be closing). */
  #owner: object | undefined;

  constructor() {
    this.#status = { state: InngestSubscriptionState.Closed, error: null, closeReason: null };
    this.#snapshot = { version: 0, data: NONE, latestData: null, freshData: NONE, ...this.#status };
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  readonly getSnapshot = (): Snapshot<T> => {
    if (this.#dirty) this.#materialize();
    return this.#snapshot;
  };

  /** A snapshot was committed to the screen: its fresh messages were seen. */
  rendered(version: number): void {
    if (version > this.#rendered) this.#rendered = version;
  }

  push(message: T): void {
    if (this.#holding) this.#held.push(message);
    else {
      this.#arrived.push(message);
      this.#changed();
    }
  }

  /** Holds arrivals until `release()` (true), or releases them and stops holding (false). */
  hold(on: boolean): void {
    if (!on) this.release();
    this.#holding = on;
  }

  /** Shows the held messages, as one batch. */
  release(): void {
    if (this.#held.length === 0) return;
    this.#arrived = this.#arrived.length === 0 ? this.#held : this.#arrived.concat(this.#held);
    this.#held = [];
    this.#changed();
  }

  setHistoryLimit(limit: number | undefined): void {
    if (limit === this.#historyLimit) return;
    this.#historyLimit = limit;
    this.#changed();
  }

  /** Makes `owner` the connection whose status is shown. */
  claim(owner: object): void {
    this.#owner = owner;
  }

  owns(owner: object): boolean {
    return this.#owner === owner;
  }

  setStatus(owner: object, status: Partial<Status>): void {
    if (this.#owner !== owner) return;
    const next = { ...this.#status, ...status };
    const s = this.#status;
    if (next.state === s.state && next.error === s.error && next.closeReason === s.closeReason) return;
    this.#status = next;
    this.#changed();
  }

  reset(): void {
    this.#arrived = [];
    this.#held = [];
    this.#reset = true;
    this.#changed();
  }

  #changed(): void {
    this.#dirty = true;
    if (this.#notifyScheduled) return;
    this.#notifyScheduled = true;
    // One render per task: React reads a snapshot as soon as it is told, so telling it on every
    // message would rebuild the arrays on every message.
    setTimeout(() => {
      this.#notifyScheduled = false;
      for (const listener of this.#listeners) listener();
    }, 0);
  }

  #materialize(): void {
    const prev = this.#snapshot;
    const version = prev.version + 1;
    let { data, latestData, freshData } = prev;
    if (this.#reset) {
      this.#reset = false;
      data = NONE;
      latestData = null;
      freshData = NONE;
      this.#freshSince = version;
    }
    const arrived = this.#arrived;
    if (arrived.length > 0) {
      this.#arrived = [];
      // Messages of a snapshot that never reached the screen are still fresh.
      const carried = this.#freshSince > this.#rendered ? freshData : NONE;
      freshData = carried.length === 0 ? arrived : carried.concat(arrived);
      this.#freshSince = version;
      data = data.length === 0 ? arrived.slice() : data.concat(arrived);
      latestData = arrived[arrived.length - 1] as T;
    }
    const limit = this.#historyLimit;
    if (limit !== undefined && data.length > Math.max(0, limit))
      data = limit > 0 ? data.slice(data.length - limit) : NONE;
    this.#snapshot = { version, data, latestData, freshData, ...this.#status };
    this.#dirty = false;
  }
}
