import { type Logger, pino } from 'pino';

export type { Logger };

/** Structured JSON logs on stderr (stdout is for the banner). */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'herald' } }, pino.destination(2));
}
