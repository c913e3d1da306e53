/**
 * Copyable code for a minted token: subscribe with curl (SSE), the SDK, or the React hook, and
 * publish to the same channel. The token is pasted in so the snippet runs as is (for its minute);
 * the SDK snippet also shows how a backend mints one.
 */

export type SnippetKind = 'curl' | 'sdk' | 'react';

export interface SnippetInput {
  /** Herald's URL, as this page reached it. */
  origin: string;
  channel: string;
  topics: string[];
  jwt: string;
  /** Herald checks a signing key on publishing and minting. */
  authOn: boolean;
}

const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function snippet(kind: SnippetKind, i: SnippetInput): string {
  const topicList = `[${i.topics.map(quote).join(', ')}]`;
  const first = i.topics[0] ?? 'topic';
  switch (kind) {
    case 'curl': {
      const publish = `${i.origin}/v1/realtime/publish?${new URLSearchParams({ channel: i.channel, topic: first })}`;
      return [
        '# subscribe (Server-Sent Events; WebSocket: /v1/realtime/connect?token=…)',
        `curl -N ${shellQuote(`${i.origin}/v1/realtime/sse?token=${i.jwt}`)}`,
        '',
        '# publish, from another terminal',
        `curl -X POST ${shellQuote(publish)} \\`,
        ...(i.authOn ? ['  -H "Authorization: Bearer $INNGEST_SIGNING_KEY" \\'] : []),
        `  -H 'Content-Type: application/json' -d '{"hello":"world"}'`,
      ].join('\n');
    }
    case 'sdk':
      return [
        "import { Realtime, subscribe } from '@herald/realtime';",
        '',
        `// In the browser or Node: the token from your backend (this one is valid for a minute)`,
        'const stream = await subscribe({',
        `  channel: ${quote(i.channel)},`,
        `  topics: ${topicList},`,
        `  key: ${quote(i.jwt)},`,
        `  apiBaseUrl: ${quote(i.origin)},`,
        '});',
        'for await (const message of stream) console.log(message.topic, message.data);',
        '',
        '// On your backend: mint tokens and publish',
        `const realtime = new Realtime({ baseUrl: ${quote(i.origin)}${i.authOn ? ', signingKey: process.env.INNGEST_SIGNING_KEY' : ''} });`,
        `const token = await realtime.getSubscriptionToken({ channel: ${quote(i.channel)}, topics: ${topicList} });`,
        `await realtime.publish({ channel: ${quote(i.channel)}, topic: ${quote(first)}, data: { hello: 'world' } });`,
      ].join('\n');
    case 'react':
      return [
        "import { useInngestSubscription } from '@herald/realtime/hooks';",
        '',
        'export function Live() {',
        '  const { data, state, error } = useInngestSubscription({',
        `    token: { channel: ${quote(i.channel)}, topics: ${topicList}, key: ${quote(i.jwt)} },`,
        "    // In an app: refreshToken: () => fetch('/api/token').then((r) => r.json()),",
        `    apiBaseUrl: ${quote(i.origin)},`,
        '  });',
        '  if (error) return <p>Error: {error.message}</p>;',
        '  return (',
        '    <ul title={state}>',
        '      {data.map((m, i) => <li key={i}>{m.topic}: {JSON.stringify(m.data)}</li>)}',
        '    </ul>',
        '  );',
        '}',
      ].join('\n');
  }
}
