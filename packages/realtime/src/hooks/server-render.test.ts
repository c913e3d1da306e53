/**
 * The hook is client-only: rendering on a server (no `window`, no `document` here) opens nothing
 * and shows the initial state, so server-rendered pages hydrate from `closed` with no data.
 */
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { MyComponent } from '../../test/seed-component.js';
import { useInngestSubscription } from './index.js';

function Status() {
  const { state, data, latestData, freshData, error } = useInngestSubscription({
    token: { channel: 'c', topics: ['t'], key: 'k' },
  });
  return createElement(
    'p',
    null,
    `${state} ${data.length} ${latestData === null} ${freshData.length} ${error === null}`,
  );
}

describe('server rendering', () => {
  it('renders the initial state without a browser', () => {
    expect(typeof (globalThis as { window?: unknown }).window).toBe('undefined');
    expect(renderToString(createElement(Status))).toBe('<p>closed 0 true 0 true</p>');
  });

  it("renders the seed's component", () => {
    const html = renderToString(createElement(MyComponent));
    expect(html).toContain('All messages:');
    expect(html).not.toContain('<li>');
  });
});
