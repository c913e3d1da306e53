import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  configTable,
  OPTIONS,
  parseBoolean,
  parseBytes,
  parseSeconds,
  parseUpstreamUrl,
  resolveConfig,
} from './config.js';

describe('config', () => {
  it('docs/operations.md holds the current option table', () => {
    const doc = readFileSync(new URL('../../../docs/operations.md', import.meta.url), 'utf8');
    const m = /<!-- config-table:start -->\n([\s\S]*?)\n<!-- config-table:end -->/.exec(doc);
    // Compare cell by cell: the formatter may pad the table.
    const cells = (table: string) =>
      table
        .split('\n')
        .filter((line) => !/^\|[\s|:-]+\|$/.test(line))
        .map((line) => line.split('|').map((c) => c.trim()));
    expect(
      cells(m?.[1] ?? ''),
      'run `npm run docs:config` and paste the table into docs/operations.md',
    ).toEqual(cells(configTable()));
  });

  it('flags win over the environment, which wins over defaults', () => {
    const env = { HERALD_PORT: '9000', INNGEST_SIGNING_KEY: 'abcd', HERALD_HISTORY_TTL: '5m' };
    expect(resolveConfig('dev', {}, {})).toMatchObject({
      port: 8288,
      host: '127.0.0.1',
      historyTtlSeconds: 300,
    });
    expect(resolveConfig('start', {}, {}).host).toBe('0.0.0.0');
    expect(resolveConfig('dev', {}, env)).toMatchObject({
      port: 9000,
      signingKey: 'abcd',
      historyTtlSeconds: 300,
    });
    expect(resolveConfig('dev', { port: '9100' }, env).port).toBe(9100);
  });

  it('parses sizes and durations with units, and says what is wrong otherwise', () => {
    expect(parseBytes('512KiB', 'x')).toBe(512 * 1024);
    expect(parseBytes('1mb', 'x')).toBe(1024 * 1024);
    expect(parseBytes('100', 'x')).toBe(100);
    expect(parseSeconds('5m', 'x')).toBe(300);
    expect(parseSeconds('500ms', 'x')).toBe(0.5);
    expect(() => parseBytes('lots', '--max-body')).toThrow(/--max-body: "lots" is not a size/);
    expect(() => resolveConfig('dev', { port: '70000' }, {})).toThrow(/--port/);
  });

  it('every option has a flag, an environment variable and a description', () => {
    for (const o of OPTIONS) {
      expect(o.flag).toMatch(o.parse === parseBoolean ? /^--[a-z-]+$/ : /^--[a-z-]+ <[a-z]+>$/);
      expect(o.env.length).toBeGreaterThan(0);
      expect(o.description.length).toBeGreaterThan(10);
    }
  });

  it('takes the sidecar upstream as an http(s) origin, with an optional path prefix', () => {
    expect(parseUpstreamUrl('http://127.0.0.1:8290/', 'x')).toBe('http://127.0.0.1:8290');
    expect(parseUpstreamUrl(' https://inngest.internal/api/ ', 'x')).toBe('https://inngest.internal/api');
    expect(resolveConfig('start', {}, {})).toMatchObject({
      inngestUpstream: undefined,
      inngestUpstreamTimeoutSeconds: 120,
    });
    expect(resolveConfig('dev', {}, { HERALD_INNGEST_UPSTREAM: 'http://inngest:8288' }).inngestUpstream).toBe(
      'http://inngest:8288',
    );
    expect(() => parseUpstreamUrl('http://inngest:8288/?x=1', '--inngest-upstream')).toThrow(
      /--inngest-upstream: .* must not carry credentials, a query or a fragment/,
    );
  });
});
