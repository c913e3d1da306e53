/**
 * Mounting `inngest` v4's own `useRealtime` (from `inngest/react`) against a Herald, for the tests
 * that check what Herald's run frames do to it (use-realtime*.test.tsx): React 19 StrictMode, a
 * token minted the v4 way, Herald's connection count.
 */
import { render } from '@testing-library/react';
import { Inngest } from 'inngest';
import { getClientSubscriptionToken, type UseRealtimeResult, useRealtime } from 'inngest/react';
import { StrictMode } from 'react';
import { afterAll, beforeAll } from 'vitest';
import WebSocket from 'ws';
import { HookProbe, recorder } from '../../packages/realtime/test/hook-probe.js';
import { connectionsReach } from '../../packages/realtime/test/hooks.js';

/** v4's client uses the global WebSocket only: a browser has one, Node 20 does not. Call at file level. */
export function useGlobalWebSocket(): void {
  const had = 'WebSocket' in globalThis;
  beforeAll(() => {
    if (!had) Object.assign(globalThis, { WebSocket });
  });
  afterAll(() => {
    if (!had) delete (globalThis as { WebSocket?: unknown }).WebSocket;
  });
}

const summary = (r: UseRealtimeResult | undefined) =>
  `connection ${r?.connectionStatus}, run ${r?.runStatus}, result ${JSON.stringify(r?.result)}, error ${r?.error?.message}`;

/**
 * Mounts `useRealtime` (StrictMode) on `channel`, topic `progress`, with a token minted the v4 way
 * (`getClientSubscriptionToken` through an inngest client pointed at Herald); resolves once open.
 */
export async function mountUseRealtime(baseUrl: string, channel: string) {
  const token = await getClientSubscriptionToken(new Inngest({ id: 'tokens', baseUrl }), {
    channel,
    topics: ['progress'],
  });
  const rec = recorder<UseRealtimeResult>(summary);
  const options = { channel, topics: ['progress'] as const, token };
  const view = render(
    <StrictMode>
      <HookProbe rec={rec} hook={useRealtime} options={options} />
    </StrictMode>,
  );
  await rec.until((r) => r.connectionStatus === 'open', 'the hook to connect');
  await connectionsReach(baseUrl, 1);
  return { rec, view };
}
