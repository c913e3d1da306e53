/**
 * Signing keys travel hashed, as the inngest SDK's `InngestApi` sends them (inngest-protocol.md §2.5):
 * the `signkey-<env>-` prefix is kept and the hex rest replaced by the hex SHA-256 of its bytes.
 * 0.4.7's own token fetch sent the raw key (W12b); Herald accepts both, and we never send it raw.
 * Web Crypto keeps this working in browsers, workers and Node 20.
 */
const PREFIX = /^signkey-\w+-/;
const HEX = /^(?:[0-9a-fA-F]{2})+$/;

export async function hashSigningKey(key: string): Promise<string> {
  const prefix = key.match(PREFIX)?.[0] ?? '';
  const rest = key.slice(prefix.length);
  // A key that is not hex cannot be hashed the SDK's way; send it as configured and let the server judge.
  if (!HEX.test(rest)) return key;
  const bytes = new Uint8Array(rest.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(rest.slice(i * 2, i * 2 + 2), 16);
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes));
  return prefix + Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

export interface SigningKeys {
  primary?: string | undefined;
  fallback?: string | undefined;
}

/**
 * Runs `request` with the hashed primary key and, on 401 or 403 when a fallback key is set, once
 * more with the hashed fallback (key rotation). Without any key, no Authorization header is sent.
 */
export async function withSigningKey(
  keys: SigningKeys,
  request: (authorization: string | undefined) => Promise<Response>,
): Promise<Response> {
  const bearer = async (k: string | undefined) => (k ? `Bearer ${await hashSigningKey(k)}` : undefined);
  const res = await request(await bearer(keys.primary));
  if ((res.status === 401 || res.status === 403) && keys.fallback) {
    // Drain the first body so the connection can be reused.
    await res.body?.cancel().catch(() => {});
    return request(await bearer(keys.fallback));
  }
  return res;
}
