/**
 * W1: 0.4.7 grew the heap by +128 MB over 200k messages when the stream `subscribe()` returned was
 * never read. Here 100k messages go through a subscription whose returned stream and an encoded
 * stream are never read, while a getJsonStream() reader consumes everything: the unread streams stop
 * at their bound (with an overflow error naming it) and the heap stays flat.
 */
import net from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { expect, it } from 'vitest';
import { drain, uniqueChannel, withHerald } from '../../test/support.js';
import { BufferOverflowError, subscribe } from '../index.js';
import { DEFAULT_MAX_BUFFERED } from './bounded-stream.js';

// The test is about the client's memory, not the server's slow-consumer policy: give it room.
const herald = withHerald({ args: ['--send-queue', String(256 * 1024 * 1024), '--history-size', '0'] });

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function heapMb(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

/** Publishes `n` messages over one pipelined HTTP/1.1 connection (fast, and still the real endpoint). */
async function publishMany(port: number, ch: string, n: number): Promise<void> {
  const body = JSON.stringify({ n: 1, pad: 'x'.repeat(64) });
  const req = `POST /v1/realtime/publish?channel=${ch}&topic=t HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  const sock = net.connect(port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  let ok = 0;
  let carry = '';
  const done = new Promise<void>((resolve, reject) => {
    sock.on('error', reject);
    sock.on('data', (d: Buffer) => {
      const s = carry + d.toString('latin1');
      const re = /HTTP\/1\.1 (\d{3})/g;
      let end = 0;
      for (let m = re.exec(s); m; m = re.exec(s)) {
        if (m[1] !== '200') reject(new Error(`publish answered ${m[1]}`));
        ok++;
        end = re.lastIndex;
      }
      carry = s.slice(Math.max(end, s.length - 12));
      if (ok >= n) resolve();
    });
  });
  for (let sent = 0; sent < n; sent += 500) {
    if (!sock.write(req.repeat(Math.min(500, n - sent)))) await new Promise((r) => sock.once('drain', r));
  }
  await done;
  sock.destroy();
}

it('an unread stream under 100k messages keeps the heap bounded (W1)', { timeout: 120_000 }, async () => {
  const N = 100_000;
  const ch = uniqueChannel('mem');
  const before = heapMb();
  const sub = await subscribe({ channel: ch, topics: ['t'], apiBaseUrl: herald.current.url });
  const unreadEncoded = sub.getEncodedStream();
  const json = sub.getJsonStream();
  let received = 0;
  const reading = (async () => {
    for await (const m of json) {
      received++;
      if ((m.data as { n: number }).n !== 1) throw new Error('bad data');
      if (received === N) break;
    }
  })();
  await publishMany(herald.current.port, ch, N);
  await reading;
  const after = heapMb();
  expect(received).toBe(N);
  // 0.4.7 would hold all 100k (~60 MB); the bound is 10k messages per unread stream.
  expect(after - before).toBeLessThan(30);

  sub.close();
  const main = await drain(sub);
  expect(main.items).toHaveLength(DEFAULT_MAX_BUFFERED);
  expect(main.error).toBeInstanceOf(BufferOverflowError);
  expect((main.error as Error).message).toMatch(/10000 unread messages/);
  const encoded = await drain(unreadEncoded);
  expect(encoded.items).toHaveLength(DEFAULT_MAX_BUFFERED);
  expect(encoded.error).toBeInstanceOf(BufferOverflowError);
});
