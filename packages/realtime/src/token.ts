/**
 * Minting subscription tokens: `POST /v1/realtime/token` with `[{ channel, name, kind: "run" }]`,
 * answered with `{ jwt }`. Authenticated with the (hashed) signing key, retrying with the fallback key
 * on 401/403.
 */
import { apiUrl } from './base-url.js';
import { ApiError, RealtimeError } from './errors.js';
import { apiError } from './http.js';
import { type SigningKeys, withSigningKey } from './signing-key.js';

export interface TokenRequest {
  baseUrl: string;
  keys: SigningKeys;
  channel: string;
  topics: readonly string[];
  fetch?: typeof fetch | undefined;
}

export async function fetchSubscriptionJwt(req: TokenRequest): Promise<string> {
  if (!req.channel) throw new RealtimeError('invalid_argument', 'Channel ID is required to create a token');
  const doFetch = req.fetch ?? globalThis.fetch;
  const url = apiUrl(req.baseUrl, '/v1/realtime/token');
  const body = JSON.stringify(req.topics.map((name) => ({ channel: req.channel, name, kind: 'run' })));
  let res: Response;
  try {
    res = await withSigningKey(req.keys, (authorization) =>
      doFetch(url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          ...(authorization ? { Authorization: authorization } : {}),
        },
        body,
      }),
    );
  } catch (cause) {
    throw new ApiError(
      `Getting a subscription token from ${url.origin} failed: ${String(cause)}`,
      0,
      undefined,
      undefined,
      {
        cause,
      },
    );
  }
  if (!res.ok) throw await apiError(`Getting a subscription token for channel "${req.channel}"`, res);
  const json = (await res.json().catch(() => undefined)) as { jwt?: unknown } | undefined;
  if (typeof json?.jwt !== 'string')
    throw new ApiError(`The token endpoint at ${url.origin} answered without a jwt`, res.status);
  return json.jwt;
}
