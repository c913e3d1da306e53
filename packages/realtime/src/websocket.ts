/**
 * Which WebSocket implementation to use: the one passed as an option, else `globalThis.WebSocket`
 * (browsers, Deno, Bun, Node ≥ 22), else the `ws` package (an optional peer dependency; Node 20 has
 * no global WebSocket, W11).
 */
import { RealtimeError } from './errors.js';

/** The part of the WHATWG WebSocket API the SDK uses; `ws` and every browser provide it. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  // biome-ignore lint/suspicious/noExplicitAny: each implementation types its events differently (DOM, ws, undici); `any` lets all of them fit.
  addEventListener(type: 'open' | 'close' | 'error' | 'message', listener: (event: any) => void): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

// A variable, so bundlers do not try to pull `ws` into browser builds.
const WS_PACKAGE = 'ws';

export async function resolveWebSocket(option?: WebSocketConstructor): Promise<WebSocketConstructor> {
  if (option) return option;
  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (typeof global === 'function') return global;
  try {
    const mod = (await import(/* @vite-ignore */ WS_PACKAGE)) as {
      WebSocket?: WebSocketConstructor;
      default?: WebSocketConstructor;
    };
    const ctor = mod.WebSocket ?? mod.default;
    if (typeof ctor === 'function') return ctor;
  } catch {
    // Fall through to the error below.
  }
  throw new RealtimeError(
    'no_websocket',
    'No WebSocket implementation found: this runtime has no global WebSocket (e.g. Node 20). ' +
      'Install the "ws" package, or pass one as the `WebSocket` option.',
  );
}
