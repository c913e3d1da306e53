/**
 * Who is calling. Every realtime route first extracts a bearer value, then decides per route what it
 * accepts (inngest-protocol.md §0.4, with F11 and F12 fixed):
 * - publish and tee: a publish JWT, a signing key, or anyone when no key is configured (dev mode);
 *   a subscription JWT is refused.
 * - token: a signing key, or anyone when no key is configured; a JWT never mints another (F12).
 * - connect and SSE: a valid realtime JWT (subscription or publish).
 */
import type { IncomingMessage } from 'node:http';
import { HttpError } from '../protocol/errors.js';
import type { SigningKeys } from './signing-key.js';
import { DEFAULT_ENV, looksLikeJwt, type RealtimeClaims, TokenError, type TokenIssuer } from './token.js';

/**
 * The bearer value of a request: `Authorization: Bearer <v>` (scheme case-insensitive); an
 * `Authorization` header without a scheme is taken whole (Inngest's executor sends a bare JWT, F11);
 * otherwise the `token` query parameter.
 */
export function bearerOf(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headers.authorization?.trim();
  if (header) {
    const m = /^bearer\s+(.*)$/i.exec(header);
    // A value without a scheme is a bare token; another scheme (Basic, …) is not ours to read.
    const value = m ? (m[1] ?? '').trim() : /\s/.test(header) ? '' : header;
    if (value && value.toLowerCase() !== 'bearer') return value;
  }
  const q = url.searchParams.get('token');
  return q ? q : undefined;
}

/**
 * A refused credential: 401 with a short `message` for the client, and the specific `reason` for
 * the server's log (never sent: it would tell a guesser which part of a credential was right).
 * `guess` is true when the credential could be a guess — a wrong key, a token whose signature does
 * not hold — and false when it was missing or genuine but unusable here (expired, another env, a
 * subscription token on /publish): only guesses count towards the auth-failure limit, so clients
 * reconnecting with stale tokens do not lock out their address.
 */
export class AuthError extends HttpError {
  constructor(
    readonly reason: string,
    message: string,
    readonly guess = true,
  ) {
    super(401, message);
    this.name = 'AuthError';
  }
}

const tokenRefusal = (e: unknown, prefix: string): AuthError =>
  e instanceof TokenError
    ? new AuthError(e.reason, `${prefix}: ${e.message}`, !e.genuine)
    : new AuthError('invalid token', `${prefix}: invalid token`);

export interface ServerPrincipal {
  kind: 'server';
  env: string;
  /** How it was authenticated: by signing key, or not at all (dev mode with no key). */
  via: 'signing-key' | 'open';
}

export interface TokenPrincipal {
  kind: 'token';
  claims: RealtimeClaims;
}

export class Authenticator {
  constructor(
    private readonly keys: SigningKeys,
    private readonly tokens: TokenIssuer,
  ) {}

  get open(): boolean {
    return !this.keys.configured;
  }

  /** For `/publish` and `/publish/tee`. */
  async publisher(bearer: string | undefined): Promise<ServerPrincipal | TokenPrincipal> {
    if (bearer && looksLikeJwt(bearer)) {
      const claims = await this.tokens.verify(bearer).catch((e: unknown) => {
        if (this.open) return undefined; // dev mode: an unusable token is no worse than none
        throw tokenRefusal(e, 'Not authenticated');
      });
      if (claims) {
        if (!claims.publish)
          throw new AuthError(
            'subscription token used to publish',
            'Not authenticated for publishing: a subscription token cannot publish; use the signing key',
            false,
          );
        return { kind: 'token', claims };
      }
    }
    return this.server(bearer);
  }

  /** For `/token`: signing key only (or open in dev mode). A JWT never mints another token. */
  async minter(bearer: string | undefined): Promise<ServerPrincipal> {
    if (bearer && looksLikeJwt(bearer) && !this.keys.verify(bearer)) {
      const isToken = await this.tokens.verify(bearer).then(
        () => true,
        () => false,
      );
      if (isToken)
        throw new AuthError(
          'realtime token used to mint',
          'a realtime token cannot mint tokens: authenticate with the signing key',
          false,
        );
    }
    return this.server(bearer);
  }

  /**
   * For the inspector's admin API: open in dev mode, the signing key otherwise (never a token: a
   * browser's subscription token must not reveal every channel).
   */
  admin(bearer: string | undefined, devMode: boolean): void {
    if (devMode && this.open) return;
    if (this.keys.verify(bearer)) return;
    throw new AuthError(
      bearer ? 'wrong signing key' : 'missing signing key',
      devMode
        ? 'Authentication failed: the admin API needs the signing key when one is configured'
        : 'Authentication failed: the admin API needs the signing key in herald start',
      bearer !== undefined,
    );
  }

  /**
   * For `/connect`, `/sse` and `sub` frames: a valid realtime JWT — for a `sub` frame, one of the
   * connection's env (F14).
   */
  async subscriber(bearer: string | undefined, env?: string): Promise<RealtimeClaims> {
    if (!bearer)
      throw new AuthError(
        'missing token',
        'Not authenticated: pass a subscription token as ?token= or a Bearer header',
        false,
      );
    let claims: RealtimeClaims;
    try {
      claims = await this.tokens.verify(bearer);
    } catch (e) {
      throw tokenRefusal(e, 'Not authenticated');
    }
    if (env !== undefined && claims.env !== env)
      throw new AuthError(
        'token env differs from the connection env',
        'token is for another environment',
        false,
      );
    return claims;
  }

  private server(bearer: string | undefined): ServerPrincipal {
    if (this.keys.verify(bearer)) return { kind: 'server', env: DEFAULT_ENV, via: 'signing-key' };
    if (this.open) return { kind: 'server', env: DEFAULT_ENV, via: 'open' };
    throw new AuthError(
      bearer ? 'wrong signing key' : 'missing signing key',
      bearer ? 'Authentication failed: wrong signing key' : 'Authentication failed: missing signing key',
      bearer !== undefined,
    );
  }
}
