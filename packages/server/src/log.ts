import { type Logger, pino } from 'pino';

export type { Logger };

/**
 * Fields that may hold a credential, at the top of a log line or one level down (`req.headers…`,
 * `config.signingKey`). Their values are replaced, whoever logs them: a token in a log is a token
 * anyone with log access can use.
 */
const SECRET_FIELDS = [
  'authorization',
  'Authorization',
  'cookie',
  'token',
  'jwt',
  'key',
  'secret',
  'signingKey',
  'signingKeyFallback',
  'jwtSecret',
  'bearer',
  'password',
];
export const REDACT_PATHS = [
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((f) => `*.${f}`),
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
];

export const REDACTED = '[redacted]';

/** Structured JSON logs on stderr (stdout is for the banner), with credentials redacted. */
export function createLogger(
  level: string,
  destination: pino.DestinationStream = pino.destination(2),
): Logger {
  return pino(
    { level, base: { service: 'herald' }, redact: { paths: REDACT_PATHS, censor: REDACTED } },
    destination,
  );
}

/**
 * A URL's path and query with every credential-bearing parameter replaced: browsers cannot set
 * headers on WebSocket and EventSource requests, so tokens travel as `?token=`. Use this for any URL
 * that is logged.
 */
export function redactUrl(raw: string): string {
  const q = raw.indexOf('?');
  if (q < 0) return raw;
  const params = raw.slice(q + 1).split('&');
  let changed = false;
  for (let i = 0; i < params.length; i++) {
    const p = params[i] as string;
    const eq = p.indexOf('=');
    const name = safeDecode(eq < 0 ? p : p.slice(0, eq)).toLowerCase();
    if (/token|key|secret|jwt|auth|password/.test(name)) {
      params[i] = `${eq < 0 ? p : p.slice(0, eq)}=${REDACTED}`;
      changed = true;
    }
  }
  return changed ? `${raw.slice(0, q)}?${params.join('&')}` : raw;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}
