/**
 * The seed's "With React" component runs unchanged but for its import (test/seed-component.tsx)
 * against a real Herald: it shows what is published, and closes its connection on unmount.
 */
import { render, screen, waitFor } from '@testing-library/react';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectionsReach, publishJson, startUpgradeProxy, type UpgradeProxy } from '../../test/hooks.js';
import { MyComponent } from '../../test/seed-component.js';
import { withHerald } from '../../test/support.js';

const herald = withHerald();
let proxy: UpgradeProxy;
const saved = process.env.INNGEST_BASE_URL;

beforeAll(async () => {
  // The seed's key is a placeholder ("my-token") where an app puts a token minted on its server;
  // the proxy puts a real one there, so the component runs unedited.
  proxy = await startUpgradeProxy(herald.current.url, {
    swapToken: { placeholder: 'my-token', channel: 'my-channel', topics: ['created', 'updated'] },
  });
  // The seed passes no URL: the SDK reads it from the environment, as 0.4.7 does.
  process.env.INNGEST_BASE_URL = proxy.url;
});
afterAll(async () => {
  process.env.INNGEST_BASE_URL = saved;
  await proxy?.close();
});

it("renders the seed's component with the messages published to its channel", async () => {
  const view = render(<MyComponent />);
  await connectionsReach(herald.current.url, 1);
  await waitFor(() => expect(screen.getByText('All messages:')).toBeTruthy(), { timeout: 10_000 });

  await publishJson(herald.current.url, 'my-channel', 'created', { id: '123', name: 'Example' });
  await publishJson(herald.current.url, 'my-channel', 'updated', true);
  await publishJson(herald.current.url, 'my-channel', 'other', 'not subscribed');

  await waitFor(() => expect(screen.getAllByRole('listitem')).toHaveLength(2), { timeout: 10_000 });
  const items = screen.getAllByRole('listitem').map((li) => li.textContent);
  expect(items).toEqual(['created: {"id":"123","name":"Example"}', 'updated: true']);
  expect(screen.getByRole('heading', { level: 2, name: /Latest message/ }).textContent).toBe(
    'Latest message: updated',
  );
  expect(view.container.querySelector('pre')?.textContent).toBe('true');

  view.unmount();
  await connectionsReach(herald.current.url, 0);
});
