/**
 * HTTP errors Herald answers with. The body is always JSON:
 * `{"error": "<what was wrong and what to do>", "status": <code>, "field"?: "<offending field>"}`.
 * Inngest clients only look at the status and embed the text in their exception, so a helpful
 * message is all upside.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'HttpError';
  }

  toJSON(): Record<string, unknown> {
    return {
      error: this.message,
      status: this.status,
      ...(this.field === undefined ? {} : { field: this.field }),
      ...this.extra,
    };
  }
}

export const badRequest = (message: string, field?: string) => new HttpError(400, message, field);
export const unauthorized = (message = 'Authentication failed') => new HttpError(401, message);
export const forbidden = (message: string) => new HttpError(403, message);
export const notFound = (message = 'Not found') => new HttpError(404, message);
export const tooLarge = (message: string, extra?: Record<string, unknown>) =>
  new HttpError(413, message, undefined, extra);
/** The request (its headers or body) did not arrive in time; the connection is closed after the answer. */
export const requestTimeout = (message: string, extra?: Record<string, unknown>) =>
  new HttpError(408, message, undefined, extra);
/** Over a rate or a count; `retryAfterSeconds` becomes the `Retry-After` header and a body field. */
export const tooManyRequests = (message: string, retryAfterSeconds: number) =>
  new HttpError(429, message, undefined, { retryAfterSeconds });
export const unavailable = (message: string) => new HttpError(503, message);
