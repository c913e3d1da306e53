/**
 * Realtime JWTs (inngest-protocol.md §2): compact HS256 JWS with claims
 * `iss, sub, exp, iat, jti, env, topics, publish`. Subscription tokens carry the topics their
 * holder may subscribe to; publish tokens (`publish: true`) may publish anywhere in their env.
 * Made and checked with `jose`; any algorithm other than HS256 (including `none`) is refused.
 */
import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import type { WireTopic } from '../protocol/topic.js';

export const TOKEN_ISSUER = 'rt.inngest.com';
/** Account id Inngest's dev server uses; Herald has one account. */
export const DEFAULT_ACCOUNT = '00000000-0000-4000-a000-000000000000';
/** Env id Inngest's dev server uses for everything authenticated by signing key. */
export const DEFAULT_ENV = '00000000-0000-4000-b000-000000000000';

const topicSchema = z.object({
  kind: z.string().default('run'),
  env_id: z.string().optional(),
  run_id: z.string().optional(),
  channel: z.string(),
  name: z.string(),
});

const claimsSchema = z.object({
  iss: z.literal(TOKEN_ISSUER),
  sub: z.string(),
  exp: z.number(),
  iat: z.number().optional(),
  jti: z.string().optional(),
  env: z.string().min(1),
  topics: z.array(topicSchema).nullable(),
  publish: z.boolean(),
});

export type RealtimeClaims = z.infer<typeof claimsSchema>;

/**
 * Why a token was refused. `message` is what the client is told: short, and before the signature is
 * known to be good it never says which check failed (an attacker learns nothing from a forgery's
 * answer). `reason` is the specific cause, for the server's log only. `genuine` says the signature
 * was good (the token was made with the secret: expired, say, but not a forgery or a guess).
 */
export class TokenError extends Error {
  constructor(
    message: string,
    readonly reason: string,
    readonly genuine = false,
    readonly expired = false,
  ) {
    super(message);
    this.name = 'TokenError';
  }
}

const INVALID = 'invalid token';

/** The log reason of a `jose` failure, and whether the signature had been verified when it failed. */
function failureOf(err: unknown): { reason: string; genuine: boolean } {
  const reason = reasonOf(err);
  // jose verifies the signature before it decodes or checks any claim.
  const genuine = err instanceof errors.JWTClaimValidationFailed || err instanceof errors.JWTInvalid;
  return { reason, genuine };
}

function reasonOf(err: unknown): string {
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'signature mismatch';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'alg not allowed';
  if (err instanceof errors.JOSENotSupported) return 'unsupported header';
  if (err instanceof errors.JWTClaimValidationFailed)
    return err.claim === 'nbf' ? 'not yet valid' : `claim ${err.claim} invalid`;
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return 'malformed';
  return 'invalid';
}

export interface MintOptions {
  env: string;
  topics: WireTopic[] | null;
  publish?: boolean;
  /** Lifetime in seconds. */
  ttlSeconds: number;
}

export class TokenIssuer {
  /**
   * The secret imported once: given raw bytes, jose imports them again on every sign and verify
   * (an extra async crypto job per token).
   */
  private readonly key: Promise<CryptoKey>;

  constructor(secret: string) {
    this.key = crypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign', 'verify'],
    );
    // A rejection (an unusable secret) surfaces on each use; unobserved here it would crash the process.
    this.key.catch(() => {});
  }

  async mint(o: MintOptions): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ env: o.env, topics: o.topics, publish: o.publish ?? false })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(TOKEN_ISSUER)
      .setSubject(DEFAULT_ACCOUNT)
      .setIssuedAt(now)
      .setExpirationTime(now + o.ttlSeconds)
      .setJti(randomUUID())
      .sign(await this.key);
  }

  /** Verifies signature, algorithm, issuer, expiry and claim types; throws TokenError saying why not. */
  async verify(token: string): Promise<RealtimeClaims> {
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, await this.key, {
        algorithms: ['HS256'],
        issuer: TOKEN_ISSUER,
        requiredClaims: ['exp'],
      }));
    } catch (err) {
      // jose checks the signature before any claim, so only a genuine token hears why it failed.
      if (err instanceof errors.JWTExpired) throw new TokenError('token expired', 'expired', true, true);
      const { reason, genuine } = failureOf(err);
      if (reason === 'not yet valid') throw new TokenError('token not yet valid', reason, genuine);
      throw new TokenError(INVALID, reason, genuine);
    }
    const parsed = claimsSchema.safeParse(payload);
    if (!parsed.success) throw new TokenError('invalid token claims', 'invalid claims', true);
    const claims = parsed.data;
    // A token issued in the future was made by a skewed or forged clock; a few seconds of skew
    // between nodes are tolerated.
    if (claims.iat !== undefined && claims.iat > Date.now() / 1000 + 5)
      throw new TokenError('token issued in the future', 'issued in the future', true);
    // Herald mints every topic in the token's own env; a topic of another env would reach across
    // environments (Inngest keys by the topic's env_id), so such a token is not one of ours.
    if (claims.topics?.some((t) => t.env_id !== undefined && t.env_id !== claims.env))
      throw new TokenError('invalid token claims', 'topic env differs from token env', true);
    return claims;
  }
}

/** Cheap syntactic check: does this bearer value look like a compact JWS? */
export function looksLikeJwt(s: string): boolean {
  const first = s.indexOf('.');
  return first > 0 && s.indexOf('.', first + 1) > first + 1 && s.split('.').length === 3;
}
