/**
 * A page that uses the hook as an app would, for the Chromium test (test/browser/hook.test.ts):
 * it subscribes with the token and Herald URL given in its query string and lists what arrives,
 * with the hook's state and why the connection last closed.
 */
import { useInngestSubscription } from '@herald/realtime/hooks';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

const params = new URLSearchParams(location.search);
const token = {
  channel: params.get('channel') ?? '',
  topics: ['t'],
  key: params.get('token') ?? '',
};

function Messages() {
  const { data, state, error, closeReason } = useInngestSubscription({
    token,
    apiBaseUrl: params.get('herald') ?? undefined,
    // Quick retries: the test cuts the connection on purpose.
    reconnect: { minDelayMs: 20, maxDelayMs: 200 },
  });
  return (
    <main>
      <p id="state" data-state={state}>
        {state}
      </p>
      <p id="close-reason">{closeReason ? `${closeReason.code ?? ''} ${closeReason.reason}` : ''}</p>
      <p id="error">{error?.message ?? ''}</p>
      <ol id="messages">
        {data.map((m) => {
          const i = (m.data as { i: number }).i;
          return (
            <li key={i} data-i={i}>
              {m.topic}: {JSON.stringify(m.data)}
            </li>
          );
        })}
      </ol>
    </main>
  );
}

const root = document.getElementById('root');
if (root)
  createRoot(root).render(
    <StrictMode>
      <Messages />
    </StrictMode>,
  );
