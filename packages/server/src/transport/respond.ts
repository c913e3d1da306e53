/** HTTP response helpers: JSON bodies, CORS as Inngest's dev server does it (§0.3), errors. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { HttpError } from '../protocol/errors.js';
import { REQUEST_ID_HEADER } from './request-log.js';

/** CORS and server-kind headers on every response. */
export function commonHeaders(req: IncomingMessage, res: ServerResponse, serverKind: 'dev' | 'cloud'): void {
  const origin = req.headers.origin;
  res.setHeader('Access-Control-Allow-Origin', origin ?? '*');
  if (origin) res.setHeader('Vary', 'Origin');
  // Inngest's two, then Herald's: a browser app may read the request id and when to retry.
  res.setHeader('Access-Control-Expose-Headers', 'Link, Mcp-Session-Id, X-Request-Id, Retry-After');
  res.setHeader('X-Inngest-Server-Kind', serverKind);
}

/** Answers a CORS preflight. */
export function preflight(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('Access-Control-Allow-Methods', 'GET, POST, PUT, DELETE, OPTIONS');
  res.setHeader('Access-Control-Allow-Headers', req.headers['access-control-request-headers'] ?? '*');
  res.setHeader('Access-Control-Max-Age', '3600');
  res.writeHead(204).end();
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** `Retry-After` (seconds) of an error that says when to try again (429). */
function retryAfterOf(e: HttpError): number | undefined {
  const v = e.extra?.retryAfterSeconds;
  return typeof v === 'number' ? v : undefined;
}

/** The error body, with the request id a user can quote when asking what happened (it is in the log). */
function withRequestId(e: HttpError, requestId: unknown): Record<string, unknown> {
  return typeof requestId === 'string' ? { ...e.toJSON(), requestId } : e.toJSON();
}

/** Turns any thrown value into a JSON error response; unknown errors become 500. */
export function sendError(res: ServerResponse, err: unknown): number {
  const e = err instanceof HttpError ? err : new HttpError(500, 'Internal error; see the server log');
  if (res.headersSent) {
    res.destroy();
    return e.status;
  }
  const retryAfter = retryAfterOf(e);
  if (retryAfter !== undefined) res.setHeader('Retry-After', String(retryAfter));
  // A body that did not arrive in time is not worth waiting for: the connection ends with the answer.
  if (e.status === 408) res.setHeader('Connection', 'close');
  sendJson(res, e.status, withRequestId(e, res.getHeader(REQUEST_ID_HEADER)));
  return e.status;
}

/** Rejects an upgrade request on the raw socket with a JSON error (before any WebSocket exists). */
export function rejectUpgrade(socket: Duplex, err: unknown, requestId?: string): number {
  const e = err instanceof HttpError ? err : new HttpError(500, 'Internal error; see the server log');
  const body = `${JSON.stringify(withRequestId(e, requestId))}\n`;
  const retryAfter = retryAfterOf(e);
  if (socket.writable) {
    socket.end(
      `HTTP/1.1 ${e.status} ${STATUS_CODES[e.status] ?? ''}\r\n` +
        'Connection: close\r\n' +
        'Content-Type: application/json\r\n' +
        'Access-Control-Allow-Origin: *\r\n' +
        (requestId === undefined ? '' : `X-Request-Id: ${requestId}\r\n`) +
        (retryAfter === undefined ? '' : `Retry-After: ${retryAfter}\r\n`) +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  return e.status;
}
