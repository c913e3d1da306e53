import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { answerClientError, clientErrorKind } from './client-error.js';

/** A socket stand-in that records what was written to it. */
function fakeSocket(): PassThrough & { written: () => string } {
  const s = new PassThrough();
  let out = '';
  s.on('data', (d: Buffer) => {
    out += d.toString();
  });
  return Object.assign(s, { written: () => out });
}

describe('clientError answers', () => {
  it("maps Node 20's parser and timeout codes", () => {
    expect(clientErrorKind('HPE_HEADER_OVERFLOW')).toBe('header_size');
    expect(clientErrorKind('ERR_HTTP_REQUEST_TIMEOUT')).toBe('header_timeout');
    expect(clientErrorKind('HPE_INVALID_METHOD')).toBe('bad_request');
    expect(clientErrorKind(undefined)).toBe('bad_request');
    expect(clientErrorKind('ECONNRESET')).toBe('gone');
  });

  it.each([
    ['header_size', 431],
    ['header_timeout', 408],
    ['bad_request', 400],
  ] as const)('%s: answers %i in JSON and closes', async (kind, status) => {
    const s = fakeSocket();
    answerClientError(s, kind);
    await new Promise((r) => setImmediate(r));
    const [head = '', body = ''] = s.written().split('\r\n\r\n');
    expect(head.split('\r\n')[0]).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(head).toContain('Connection: close');
    expect(head).toContain(`Content-Length: ${Buffer.byteLength(body)}`);
    expect(JSON.parse(body)).toMatchObject({ status, error: expect.any(String) });
    expect(s.writableEnded).toBe(true);
  });

  it('writes nothing to a socket that is gone or already answering', () => {
    const gone = fakeSocket();
    answerClientError(gone, 'gone');
    expect(gone.destroyed).toBe(true);
    const busy = Object.assign(fakeSocket(), { _httpMessage: { headersSent: true } });
    answerClientError(busy, 'header_timeout');
    expect(busy.destroyed).toBe(true);
    expect(busy.written()).toBe('');
  });
});
