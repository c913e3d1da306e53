/**
 * Run lifecycle messages in the SDK, against a real Herald: `Realtime.publishRun`, `subscribe()`
 * delivering them only when asked (`runLifecycle: true`) yet always counting their positions, across
 * a cut connection without a duplicate, and `runLifecycleOf` reading them as `inngest` v4's hook does.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { TcpProxy } from '../../../test/support/tcp-proxy.js';
import * as serverTable from '../../server/dist/protocol/run-status.js';
import { rawPublish, take, uniqueChannel, until, withHerald } from '../test/support.js';
import {
  channel,
  isTerminalRunStatus,
  positionOf,
  Realtime,
  runLifecycleOf,
  subscribe,
  topic,
} from './index.js';
import { RUN_STATUS_FIELDS, RUN_STATUS_NAMES } from './run-status.js';

const herald = withHerald();
const opts = () => ({ apiBaseUrl: herald.current.url });
const client = () => new Realtime({ baseUrl: herald.current.url });

async function send(ch: string, t: string, data: unknown) {
  const res = await rawPublish(herald.current.url, ch, t, JSON.stringify(data));
  expect(res.status).toBe(200);
}

describe('run lifecycle messages', () => {
  const proxies: TcpProxy[] = [];
  afterAll(async () => {
    for (const p of proxies) await p.close();
  });

  it('publishRun() reaches a runLifecycle subscriber of other topics, shaped as v4 delivers it', async () => {
    const ch = uniqueChannel('run');
    const stream = await subscribe({ channel: ch, topics: ['progress'], runLifecycle: true, ...opts() });
    const ack = await client().publishRun(
      ch,
      { status: 'completed', output: { rows: 3 } },
      { runId: '01RUN', idempotencyKey: `k-${ch}` },
    );
    expect(ack).toMatchObject({ seq: 1, duplicate: false, channel: ch, kind: 'run' });
    await send(ch, 'progress', { pct: 100 });
    const [run, data] = await take(stream, 2);
    expect(run).toEqual({
      kind: 'run',
      channel: ch,
      data: { status: 'completed', output: { rows: 3 } },
      createdAt: expect.any(Date),
      runId: '01RUN',
      fnId: undefined,
      envId: expect.any(String),
    });
    expect(positionOf(run as object)).toEqual({ epoch: ack.epoch, seq: 1 });
    expect(data).toMatchObject({ kind: 'data', topic: 'progress', data: { pct: 100 } });
    expect(runLifecycleOf(run)).toEqual({ status: 'completed', result: { rows: 3 } });
    stream.close();
  });

  it('is not delivered without runLifecycle (as 0.4.7), but its position counts', async () => {
    const ch = uniqueChannel('run');
    const stream = await subscribe({ channel: ch, topics: ['t'], ...opts() });
    await send(ch, 't', 1);
    await client().publishRun(channel(ch).addTopic(topic('t'))(), { status: 'running' });
    await send(ch, 't', 3);
    const got = await take(stream, 2);
    expect(got.map((m) => [m.kind, m.data, positionOf(m)?.seq])).toEqual([
      ['data', 1, 1],
      ['data', 3, 3],
    ]);
    stream.close();
  });

  it('reaches onMessage and the encoded stream', async () => {
    const ch = uniqueChannel('run');
    const seen: unknown[] = [];
    const stream = await subscribe({
      channel: ch,
      topics: ['t'],
      runLifecycle: true,
      onMessage: (m) => {
        seen.push(m.kind === 'run' ? runLifecycleOf(m).status : m.data);
      },
      ...opts(),
    });
    const encoded = stream.getEncodedStream();
    await client().publishRun(ch, { status: 'failed', error: { name: 'Error', message: 'no' } });
    await until(() => seen.length === 1, 'the callback');
    expect(seen).toEqual(['failed']);
    const [line] = await take(encoded, 1);
    expect(JSON.parse(new TextDecoder().decode(line))).toMatchObject({
      kind: 'run',
      channel: ch,
      data: { status: 'failed', error: { name: 'Error', message: 'no' } },
    });
    expect(JSON.parse(new TextDecoder().decode(line))).not.toHaveProperty('topic');
    stream.close();
  });

  it('is delivered once across a cut connection (its position is resumed from)', async () => {
    const proxy = await TcpProxy.start([herald.current.port]);
    proxies.push(proxy);
    const ch = uniqueChannel('run');
    const got: string[] = [];
    const stream = await subscribe({
      channel: ch,
      topics: ['t'],
      runLifecycle: true,
      apiBaseUrl: proxy.url,
      reconnect: { minDelayMs: 20, maxDelayMs: 100 },
      onError: () => {},
      onMessage: (m) => {
        got.push(m.kind === 'run' ? `run:${runLifecycleOf(m).status}` : `data:${m.data}`);
      },
    });
    await send(ch, 't', 1);
    await client().publishRun(ch, { status: 'running' });
    await until(() => got.length === 2, 'the run message');
    // Cut after the run message: the resume starts after it, so it does not come again.
    expect(proxy.dropAll()).toBeGreaterThan(0);
    await send(ch, 't', 3);
    await client().publishRun(ch, { status: 'completed', output: 'ok' });
    await until(() => got.length >= 4, 'the messages after the cut', 4_000);
    await send(ch, 't', 5);
    await until(() => got.length >= 5, 'the last message');
    expect(got).toEqual(['data:1', 'run:running', 'data:3', 'run:completed', 'data:5']);
    stream.close();
  });

  it('publishRun() refuses what is not a run update, before sending anything', async () => {
    const r = client();
    await expect(r.publishRun('', { status: 'running' })).rejects.toThrow(/channel/);
    await expect(r.publishRun('c', null as never)).rejects.toThrow(/status/);
    // The server refuses a status it does not know, saying which it accepts.
    await expect(r.publishRun('c', { status: 'queued' as never })).rejects.toThrow(/running, completed/);
  });
});

describe('runLifecycleOf', () => {
  it('reads the status and result as inngest v4 does', () => {
    expect(runLifecycleOf({ status: 'Succeeded', output: 1 })).toEqual({ status: 'completed', result: 1 });
    expect(runLifecycleOf({ state: 'in_progress' })).toEqual({ status: 'running' });
    expect(runLifecycleOf({ runStatus: 5, status: 'canceled' })).toEqual({ status: 'cancelled' });
    // `result` is the result whatever the status; `output` only once completed.
    expect(runLifecycleOf({ status: 'failed', output: 'x', error: 'e' })).toEqual({ status: 'failed' });
    expect(runLifecycleOf({ status: 'running', result: 'partial' })).toEqual({
      status: 'running',
      result: 'partial',
    });
    expect(runLifecycleOf({ status: 'constructor' })).toEqual({ status: undefined });
    expect(runLifecycleOf('completed')).toEqual({ status: undefined });
    expect(runLifecycleOf({ kind: 'run', data: { status: 'error' } })).toEqual({ status: 'failed' });
    expect(
      [undefined, 'running', 'completed', 'failed', 'cancelled'].map((s) => isTerminalRunStatus(s as never)),
    ).toEqual([false, false, true, true, true]);
  });

  it("uses the server's status table (the SDK keeps a copy)", () => {
    expect(RUN_STATUS_NAMES).toEqual(serverTable.RUN_STATUS_NAMES);
    expect(RUN_STATUS_FIELDS).toEqual(serverTable.RUN_STATUS_FIELDS);
  });
});
