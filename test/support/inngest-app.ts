/**
 * A real `inngest` app beside Herald in sidecar mode, for the interop tests of either SDK version
 * (this file imports neither: each test passes its own version's `serve` handler and client).
 * - `SIDECAR_MODES` are the two deployments tested: beside the dev server and beside self-hosted
 *   Inngest, each as Herald's flags and the app's environment variables;
 * - `startSidecar(mode)` starts the stand-in Inngest server and a Herald forwarding to it, and sets
 *   the app's environment (clients read some of it when constructed, some on each request);
 * - `serve()` puts the app's serve endpoint (`serve` from `inngest/node`) on loopback, and `sync()`
 *   sends it the PUT that Inngest's CLI, dashboard or a deploy hook sends to make it register;
 *   `lastRegistration` reads what the app then sent the upstream.
 */
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SIGNING_KEY, SIGNING_KEY_HASHED, stopClean } from '../server/helpers.js';
import { type HeraldProcess, startHerald } from './herald.js';
import { StandInUpstream } from './upstream.js';

/** How an app and Herald are configured for one deployment. */
export interface SidecarMode {
  name: 'dev' | 'cloud';
  herald: { mode: 'dev' | 'start'; args: string[] };
  /** The app's environment: Herald's URL is its only base URL. */
  env: (heraldUrl: string) => Record<string, string>;
  /** The Authorization the app sends to Inngest and Herald (none in dev mode). */
  authorization: string | undefined;
  /** The event key in the app's `/e/<key>` requests. */
  eventKey: string;
}

export const SIDECAR_MODES: SidecarMode[] = [
  {
    // Beside the Inngest dev server: `herald dev` (auth off), and the app in dev mode at Herald.
    name: 'dev',
    herald: { mode: 'dev', args: [] },
    env: (url) => ({ INNGEST_DEV: url }),
    authorization: undefined,
    eventKey: 'NO_EVENT_KEY_SET',
  },
  {
    // Beside self-hosted Inngest: `herald start` with the signing key Inngest and the app share.
    name: 'cloud',
    herald: { mode: 'start', args: ['--signing-key', SIGNING_KEY] },
    env: (url) => ({
      INNGEST_DEV: '0',
      INNGEST_BASE_URL: url,
      INNGEST_SIGNING_KEY: SIGNING_KEY,
      INNGEST_EVENT_KEY: 'test-event-key',
    }),
    authorization: `Bearer ${SIGNING_KEY_HASHED}`,
    eventKey: 'test-event-key',
  },
];

export interface Sidecar {
  upstream: StandInUpstream;
  herald: HeraldProcess;
  /** Puts an app's serve handler on loopback (closed by `stop`). */
  serve(handler: RequestListener): Promise<ServedApp>;
  /** Closes the app, stops Herald (cleanly, or it throws) and the stand-in, restores the environment. */
  stop(): Promise<void>;
}

/**
 * A stand-in Inngest server, a Herald in front of it (`--inngest-upstream`) configured for `mode`,
 * and the app's environment for that mode (set until `stop`).
 */
export async function startSidecar(mode: SidecarMode): Promise<Sidecar> {
  const upstream = await StandInUpstream.start();
  const herald = await startHerald({
    mode: mode.herald.mode,
    args: ['--inngest-upstream', upstream.url, ...mode.herald.args],
  });
  const restoreEnv = useEnv(mode.env(herald.url));
  const apps: ServedApp[] = [];
  return {
    upstream,
    herald,
    async serve(handler) {
      const app = await serveApp(handler);
      apps.push(app);
      return app;
    },
    async stop() {
      restoreEnv();
      await Promise.all(apps.map((a) => a.close()));
      try {
        await stopClean(herald);
      } finally {
        await upstream.close();
      }
    },
  };
}

export interface ServedApp {
  /** The serve endpoint, e.g. http://127.0.0.1:41234/api/inngest */
  url: string;
  /** Asks the app to register itself (an out-of-band sync); resolves with its answer. */
  sync(): Promise<{ status: number; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

/** The last registration that reached the stand-in: who sent it, and the app and functions in it. */
export function lastRegistration(upstream: StandInUpstream) {
  const r = upstream.to('/fn/register').at(-1);
  if (r === undefined) throw new Error('no /fn/register reached the upstream');
  const body = JSON.parse(r.body.toString()) as {
    url: string;
    appName: string;
    functions: { id: string; triggers: unknown[] }[];
  };
  return {
    method: r.method,
    authorization: r.headers.authorization,
    url: body.url,
    appName: body.appName,
    functions: body.functions.map((f) => [f.id, f.triggers]),
  };
}

async function serveApp(handler: RequestListener): Promise<ServedApp> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/inngest`;
  return {
    url,
    async sync() {
      const res = await fetch(url, { method: 'PUT' });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The Inngest variables an app could have from its environment; `useEnv` clears the ones it is not given. */
const INNGEST_ENV = [
  'INNGEST_DEV',
  'INNGEST_BASE_URL',
  'INNGEST_API_BASE_URL',
  'INNGEST_EVENT_API_BASE_URL',
  'INNGEST_SIGNING_KEY',
  'INNGEST_SIGNING_KEY_FALLBACK',
  'INNGEST_EVENT_KEY',
];

/**
 * Sets exactly these Inngest variables (clearing the others of the list), as an app's deployment
 * would: the clients read some when constructed and some on each request, so they stay set until
 * the returned function puts the previous ones back.
 */
function useEnv(env: Record<string, string>): () => void {
  const saved = Object.fromEntries(INNGEST_ENV.map((k) => [k, process.env[k]]));
  for (const k of INNGEST_ENV) delete process.env[k];
  Object.assign(process.env, env);
  return () => {
    for (const k of INNGEST_ENV) {
      const v = saved[k];
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}
