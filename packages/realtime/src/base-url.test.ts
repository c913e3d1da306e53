/** Base-URL and environment resolution, exactly as 0.4.7 does it (inngest-client-api.md §1.4). */
import { describe, expect, it } from 'vitest';
import { CLOUD_URL, connectUrl, DEV_SERVER_URL, resolveBaseUrl } from './base-url.js';
import { envFrom, readEnv } from './env.js';

const DEV = DEV_SERVER_URL;
const CLOUD = CLOUD_URL;

const table: [string, Record<string, string>, string | undefined, string][] = [
  [
    'explicit wins over everything',
    { INNGEST_BASE_URL: 'http://env:1/' },
    'http://explicit:2/',
    'http://explicit:2/',
  ],
  [
    'INNGEST_BASE_URL',
    { INNGEST_BASE_URL: 'http://a:1/', INNGEST_API_BASE_URL: 'http://b:2/' },
    undefined,
    'http://a:1/',
  ],
  [
    'INNGEST_API_BASE_URL',
    { INNGEST_API_BASE_URL: 'http://b:2/', INNGEST_DEV: '1' },
    undefined,
    'http://b:2/',
  ],
  ['INNGEST_DEV as a URL', { INNGEST_DEV: 'http://herald:9000' }, undefined, 'http://herald:9000/'],
  ['INNGEST_DEV=1', { INNGEST_DEV: '1', NODE_ENV: 'production' }, undefined, DEV],
  ['INNGEST_DEV=true', { INNGEST_DEV: 'true' }, undefined, DEV],
  ['INNGEST_DEV=0 means cloud', { INNGEST_DEV: '0' }, undefined, CLOUD],
  ['INNGEST_DEV=false means cloud', { INNGEST_DEV: 'false' }, undefined, CLOUD],
  ['production', { NODE_ENV: 'production' }, undefined, CLOUD],
  ['development', { NODE_ENV: 'development' }, undefined, DEV],
  ['nothing set', {}, undefined, DEV],
  ['NEXT_PUBLIC_ prefix', { NEXT_PUBLIC_INNGEST_BASE_URL: 'http://next:1/' }, undefined, 'http://next:1/'],
  ['REACT_APP_ prefix', { REACT_APP_INNGEST_DEV: '1', NODE_ENV: 'production' }, undefined, DEV],
  [
    'NUXT_PUBLIC_ prefix',
    { NUXT_PUBLIC_INNGEST_API_BASE_URL: 'http://nuxt:1/' },
    undefined,
    'http://nuxt:1/',
  ],
  ['VUE_APP_ prefix', { VUE_APP_INNGEST_BASE_URL: 'http://vue:1/' }, undefined, 'http://vue:1/'],
  ['VITE_ prefix', { VITE_INNGEST_BASE_URL: 'http://vite:1/' }, undefined, 'http://vite:1/'],
  [
    'plain name wins over a prefixed one',
    { INNGEST_BASE_URL: 'http://p:1/', VITE_INNGEST_BASE_URL: 'http://v:1/' },
    undefined,
    'http://p:1/',
  ],
];

describe('resolveBaseUrl', () => {
  it.each(table)('%s', (_name, vars, explicit, expected) => {
    expect(resolveBaseUrl(explicit, envFrom(vars))).toBe(expected);
  });

  it('reads process.env, with the public prefixes', () => {
    const before = { ...process.env };
    try {
      delete process.env.INNGEST_BASE_URL;
      process.env.NEXT_PUBLIC_INNGEST_BASE_URL = 'http://from-process:1/';
      expect(readEnv('INNGEST_BASE_URL')).toBe('http://from-process:1/');
      expect(resolveBaseUrl()).toBe('http://from-process:1/');
    } finally {
      process.env = before;
    }
  });
});

describe('connectUrl', () => {
  it('uses ws: for http and wss: for anything else, with the token in ?token=', () => {
    expect(connectUrl('http://h:1/some/prefix', 'a.b.c')).toBe('ws://h:1/v1/realtime/connect?token=a.b.c');
    expect(connectUrl('https://h/', 'j')).toBe('wss://h/v1/realtime/connect?token=j');
  });
});
