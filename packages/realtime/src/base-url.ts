/**
 * Where the SDK sends HTTP calls and opens sockets, resolved exactly as 0.4.7 does
 * (inngest-client-api.md §1.4):
 * 1. an explicit base URL (option, the app's `apiBaseUrl`);
 * 2. `INNGEST_BASE_URL`, then `INNGEST_API_BASE_URL`;
 * 3. `INNGEST_DEV`: a URL is used as is; `1`/`true` means the local dev server; any other value, cloud;
 * 4. otherwise `NODE_ENV=production` means cloud, anything else the local dev server.
 * Herald's `herald dev` listens on the dev server's port (8288), so development needs no setting.
 */
import { type EnvSource, readEnv } from './env.js';

export const DEV_SERVER_URL = 'http://localhost:8288/';
export const CLOUD_URL = 'https://api.inngest.com/';

function asUrl(value: string): string | undefined {
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : undefined;
  } catch {
    return undefined;
  }
}

export function resolveBaseUrl(explicit?: string, env: EnvSource = readEnv): string {
  if (explicit) return explicit;
  const configured = env('INNGEST_BASE_URL') ?? env('INNGEST_API_BASE_URL');
  if (configured) return configured;
  const dev = env('INNGEST_DEV');
  if (dev !== undefined) {
    const url = asUrl(dev);
    if (url) return url;
    return ['1', 'true'].includes(dev.trim().toLowerCase()) ? DEV_SERVER_URL : CLOUD_URL;
  }
  return env('NODE_ENV') === 'production' ? CLOUD_URL : DEV_SERVER_URL;
}

/** An absolute path on the base's origin (clients drop any path prefix, §0.2). */
export function apiUrl(base: string, path: string): URL {
  return new URL(path, base);
}

/** The WebSocket URL for a token: `http:` → `ws:`, anything else → `wss:` (as Inngest's clients). */
export function connectUrl(base: string, jwt: string): string {
  const url = new URL('/v1/realtime/connect', base);
  url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:';
  url.searchParams.set('token', jwt);
  return url.href;
}
