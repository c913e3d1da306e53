/** Turning a failed HTTP response from Herald (or Inngest) into an `ApiError` that says what happened. */
import { ApiError } from './errors.js';

/** Reads `{ error, field, requestId }` from a JSON error body, or the text of any other body. */
export async function apiError(what: string, res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  let serverError: string | undefined = text.trim() || undefined;
  let field: string | undefined;
  let requestId = res.headers.get('X-Request-Id') ?? undefined;
  try {
    const body = JSON.parse(text) as { error?: unknown; field?: unknown; requestId?: unknown };
    if (typeof body.error === 'string') serverError = body.error;
    if (typeof body.field === 'string') field = body.field;
    if (typeof body.requestId === 'string') requestId = body.requestId;
  } catch {
    // Not JSON (e.g. Inngest's text/plain 401): keep the text.
  }
  const detail = serverError ? `: ${serverError}` : '';
  return new ApiError(
    `${what} failed with HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${detail}${
      requestId ? ` (request ${requestId})` : ''
    }`,
    res.status,
    serverError,
    field,
    { requestId },
  );
}
