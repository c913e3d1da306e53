import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../log.js';
import type { ServerContext } from './context.js';
import { beginUpgrade } from './request-log.js';

function upgradeRequest(): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  req.method = 'GET';
  req.url = '/v1/realtime/connect?token=secret';
  req.headers = { 'x-request-id': 'req-1' };
  return req;
}

function contextAt(level: string, lines: string[]): { ctx: ServerContext; children: () => number } {
  const log = createLogger(
    level,
    new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  );
  let made = 0;
  const child = log.child.bind(log);
  log.child = ((...args: Parameters<typeof log.child>) => {
    made++;
    return child(...args);
  }) as typeof log.child;
  const ctx = { log, config: { trustProxy: false } } as unknown as ServerContext;
  return { ctx, children: () => made };
}

describe('beginUpgrade', () => {
  it('makes no child logger unless debug is on (the connection keeps its scope all its life)', () => {
    const lines: string[] = [];
    const { ctx, children } = contextAt('warn', lines);
    const scope = beginUpgrade(ctx, upgradeRequest());
    expect(scope.id).toBe('req-1');
    expect(children()).toBe(0);
    expect(lines).toEqual([]);
  });

  it('logs the upgrade at debug, with its request id and the token redacted', () => {
    const lines: string[] = [];
    const { ctx, children } = contextAt('debug', lines);
    beginUpgrade(ctx, upgradeRequest());
    expect(children()).toBe(1);
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0] as string);
    expect(line).toMatchObject({ reqId: 'req-1', msg: 'websocket upgrade', method: 'GET' });
    expect(line.path).not.toContain('secret');
  });
});
