/**
 * The "app" a subscription or token request can borrow its configuration from: an `inngest` client
 * (v3 or v4; its base URL and signing keys), or a Herald `Realtime` client.
 */
import { resolveBaseUrl } from './base-url.js';
import { readEnv } from './env.js';
import type { SigningKeys } from './signing-key.js';
import type { WebSocketConstructor } from './websocket.js';

/** An `inngest` client, as 0.4.7 types it (`Inngest.Like`). */
export interface InngestAppLike {
  readonly [Symbol.toStringTag]: 'Inngest.App';
}

/** Marks a Herald `Realtime` client and carries its connection settings. */
export const HERALD_CLIENT: unique symbol = Symbol.for('@herald/realtime.client');

export interface ClientSettings {
  baseUrl: string;
  keys: SigningKeys;
  fetch?: typeof fetch | undefined;
  WebSocket?: WebSocketConstructor | undefined;
}

export interface HeraldAppLike {
  readonly [HERALD_CLIENT]: ClientSettings;
}

export type AppLike = InngestAppLike | HeraldAppLike;

/** What an inngest client exposes at runtime (its InngestApi's key fields are private in its types). */
interface InngestInternals {
  apiBaseUrl?: string;
  inngestApi?: {
    apiBaseUrl?: string;
    signingKey?: string;
    signingKeyFallback?: string;
    getSubscriptionToken?: (channel: string, topics: string[]) => Promise<string>;
  };
}

export function isHeraldApp(app: unknown): app is HeraldAppLike {
  return typeof app === 'object' && app !== null && HERALD_CLIENT in app;
}

/** Signing keys from the environment (server-side code only: never put a signing key in a browser bundle). */
export function envKeys(): SigningKeys {
  return { primary: readEnv('INNGEST_SIGNING_KEY'), fallback: readEnv('INNGEST_SIGNING_KEY_FALLBACK') };
}

/**
 * Base URL and keys for an app (or none): the explicit URL, else the app's, else the environment's
 * (base-url.ts); the app's keys, else `INNGEST_SIGNING_KEY(_FALLBACK)`.
 */
export function settingsFor(app: AppLike | undefined, explicitBaseUrl?: string): ClientSettings {
  if (isHeraldApp(app)) {
    const s = app[HERALD_CLIENT];
    return { ...s, baseUrl: explicitBaseUrl ?? s.baseUrl };
  }
  const inngest = app as InngestInternals | undefined;
  const env = envKeys();
  return {
    baseUrl: resolveBaseUrl(explicitBaseUrl ?? inngest?.apiBaseUrl ?? inngest?.inngestApi?.apiBaseUrl),
    keys: {
      primary: inngest?.inngestApi?.signingKey || env.primary,
      fallback: inngest?.inngestApi?.signingKeyFallback || env.fallback,
    },
  };
}

/** The inngest client's own token call (hashed key, fallback retry), when it has one. */
export function inngestTokenCall(app: AppLike | undefined) {
  if (!app || isHeraldApp(app)) return undefined;
  const api = (app as InngestInternals).inngestApi;
  const call = api?.getSubscriptionToken;
  return typeof call === 'function' ? call.bind(api) : undefined;
}
