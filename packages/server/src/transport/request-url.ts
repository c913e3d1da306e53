/**
 * The URL of a request, for routing. Node's parser accepts request targets that WHATWG URL cannot
 * parse against a base (`//`, `//[`, `\\`); `new URL` throws on them, and a throw in a request or
 * upgrade listener ends the process. Such a target is the client's error: undefined here, 400 there.
 */
import type { IncomingMessage } from 'node:http';

export function requestUrl(req: IncomingMessage): URL | undefined {
  try {
    return new URL(req.url ?? '/', 'http://herald.invalid');
  } catch {
    return undefined;
  }
}

export const INVALID_TARGET = 'Bad request: the request target is not a valid path';
