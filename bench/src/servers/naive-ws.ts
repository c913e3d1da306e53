/**
 * Baseline (a): the naive `ws` broadcast server. For each publish it builds the message string once
 * and calls `send` with that same string on every subscribed socket — what most Node realtime
 * servers do. Same endpoints and envelope as Herald.
 */
import { createServer } from 'node:http';
import { type WebSocket, WebSocketServer } from 'ws';
import { baselineListener, envelope, portArg, topicKey, topicsOfToken } from './baseline-http.js';

const subscribers = new Map<string, Set<WebSocket>>();

const server = createServer(
  { keepAliveTimeout: 65_000 },
  baselineListener((p) => {
    const set = subscribers.get(topicKey(p.channel, p.topic));
    if (set === undefined) return 0;
    const text = envelope(p);
    for (const ws of set) ws.send(text);
    return set.size;
  }),
);
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false });

server.on('upgrade', (req, socket, head) => {
  const url = new URL(req.url ?? '/', 'http://baseline.invalid');
  const topics = topicsOfToken(url.searchParams.get('token'));
  if (url.pathname !== '/v1/realtime/connect' || topics.length === 0) {
    socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    const keys = topics.map((t) => topicKey(t.channel, t.name));
    for (const k of keys) {
      let set = subscribers.get(k);
      if (set === undefined) {
        set = new Set();
        subscribers.set(k, set);
      }
      set.add(ws);
    }
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      for (const k of keys) subscribers.get(k)?.delete(ws);
    });
  });
});

server.listen(portArg(), '127.0.0.1', () => process.stdout.write('naive ws baseline listening\n'));
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
