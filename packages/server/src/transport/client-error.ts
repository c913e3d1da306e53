/**
 * Answers what Node's HTTP parser refuses before a request reaches a route (the server's
 * `clientError` event) in JSON, like every other Herald error, and closes the connection:
 * - `431` when the request head exceeds `--max-header-bytes` (`HPE_HEADER_OVERFLOW`);
 * - `408` when the head did not arrive within `--headers-timeout` (Node 20 reports header and
 *   request timeouts alike as `ERR_HTTP_REQUEST_TIMEOUT`; there is no separate headers code);
 * - `400` for anything else the parser could not read.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

export type ClientErrorKind = 'header_size' | 'header_timeout' | 'bad_request' | 'gone';

export function clientErrorKind(code: string | undefined): ClientErrorKind {
  if (code === 'HPE_HEADER_OVERFLOW') return 'header_size';
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'header_timeout';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'gone';
  return 'bad_request';
}

const ANSWERS: Record<Exclude<ClientErrorKind, 'gone'>, { status: number; error: string }> = {
  header_size: {
    status: 431,
    error:
      'Request headers too large: the request line and headers exceed the server limit (--max-header-bytes)',
  },
  header_timeout: {
    status: 408,
    error: 'Request timeout: the request headers did not arrive in time (--headers-timeout)',
  },
  bad_request: { status: 400, error: 'Bad request: the HTTP request could not be parsed' },
};

/** Writes the JSON answer for `kind` (if the socket can still take one) and closes the socket. */
export function answerClientError(
  socket: Duplex & { _httpMessage?: { headersSent?: boolean } },
  kind: ClientErrorKind,
): void {
  // A response already under way (or a peer already gone) cannot take another one.
  if (kind === 'gone' || !socket.writable || socket._httpMessage?.headersSent) {
    socket.destroy();
    return;
  }
  const { status, error } = ANSWERS[kind];
  const body = `${JSON.stringify({ error, status })}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
