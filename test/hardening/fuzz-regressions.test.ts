/**
 * Inputs the fuzz suites (fuzz-http, fuzz-ws) found to break Herald, replayed byte for byte. Each
 * was a bug: the process died, or the answer was not a documented JSON error.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../support/client.js';
import { type HeraldProcess, startHerald } from '../support/herald.js';

let herald: HeraldProcess;
beforeAll(async () => {
  herald = await startHerald();
});
afterAll(async () => {
  await herald.stop();
});

/** Sends raw bytes on a fresh connection; resolves with everything received until the server closes. */
function raw(bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(herald.port, '127.0.0.1', () => socket.write(Buffer.from(bytes, 'latin1')));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      text += d;
    });
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
    socket.setTimeout(10_000, () =>
      socket.destroy(new Error(`no close within 10 s; got ${JSON.stringify(text)}`)),
    );
  });
}

/** Status line and JSON body of a raw answer. */
function parse(answer: string): { status: number; type: string | undefined; body: Record<string, unknown> } {
  const [head = '', body = ''] = answer.split('\r\n\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
  const type = /^content-type: *([^\r\n]*)/im.exec(head)?.[1];
  return { status, type, body: JSON.parse(body) as Record<string, unknown> };
}

async function stillServing(): Promise<void> {
  expect(herald.proc.exitCode).toBeNull();
  expect((await fetch(`${herald.url}/health`)).status).toBe(200);
}

describe('request targets that WHATWG URL cannot parse', () => {
  // `new URL('//', base)` throws; in the request listener that ended the process.
  for (const target of ['//', '//[', 'http://[::1', '//%zz'])
    it(`GET ${target} is answered 400 in JSON and the process lives`, async () => {
      const answer = parse(await raw(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
      expect(answer).toMatchObject({ status: 400, type: 'application/json', body: { status: 400 } });
      expect(answer.body.error).toEqual(expect.any(String));
      await stillServing();
    });

  it('an upgrade to such a target, or to a path without WebSocket, is refused in JSON', async () => {
    const upgrade = (target: string) =>
      `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
      'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';
    expect(parse(await raw(upgrade('//')))).toMatchObject({ status: 400, type: 'application/json' });
    expect(parse(await raw(upgrade('/health')))).toMatchObject({
      status: 404,
      type: 'application/json',
      body: { status: 404 },
    });
    await stillServing();
  });
});

describe('an Expect header other than 100-continue', () => {
  // Node answered these itself, with an empty 417.
  it('is answered 417 in JSON', async () => {
    for (const expect100 of ['bogus', '', 'x-100-continuex'])
      expect(
        parse(
          await raw(`GET /health HTTP/1.1\r\nHost: x\r\nExpect: ${expect100}\r\nConnection: close\r\n\r\n`),
        ),
      ).toMatchObject({ status: 417, type: 'application/json', body: { status: 417 } });
    await stillServing();
  });
});

describe('a WebSocket handshake the ws library refuses', () => {
  // The library answered these with text/html.
  it('is answered in JSON: 400 for a bad key, version or subprotocol list, 405 for another method', async () => {
    const token = await mintToken(herald.url, 'regressions', ['t']);
    const handshake = (method: string, headers: string) =>
      `${method} /v1/realtime/connect?token=${token} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n` +
      `Upgrade: websocket\r\n${headers}\r\n`;
    const key = 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
    for (const [method, headers, status] of [
      ['GET', 'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: short\r\n', 400],
      ['GET', `Sec-WebSocket-Version: 12\r\n${key}`, 400],
      ['GET', `Sec-WebSocket-Version: 13\r\n${key}Sec-WebSocket-Protocol: a,,b\r\n`, 400],
      ['POST', `Sec-WebSocket-Version: 13\r\n${key}`, 405],
    ] as const)
      expect(parse(await raw(handshake(method, headers)))).toMatchObject({
        status,
        type: 'application/json',
        body: { status },
      });
    await stillServing();
  });
});

describe('an HTTP/1.1 request without Host', () => {
  // Node refused these itself, with an empty 400.
  it('is refused 400 in JSON', async () => {
    expect(parse(await raw('GET /health HTTP/1.1\r\nConnection: close\r\n\r\n'))).toMatchObject({
      status: 400,
      type: 'application/json',
      body: { status: 400 },
    });
    // HTTP/1.0 needs no Host.
    expect(parse(await raw('GET /health HTTP/1.0\r\n\r\n')).status).toBe(200);
    await stillServing();
  });
});
