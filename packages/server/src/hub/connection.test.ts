import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { Publication } from '../engine/engine.js';
import type { CloseCode } from '../protocol/close-codes.js';
import { Connection } from './connection.js';
import { WriteScheduler } from './write-scheduler.js';

/** A connection whose transport records what was written: each message as its seq. */
class RecordingConnection extends Connection {
  readonly transport = 'ws' as const;
  readonly written: string[] = [];
  constructor() {
    super({
      env: 'e',
      sendQueueBytes: 1 << 20,
      scheduler: new WriteScheduler(),
      onSlowConsumer: () => {},
      onWritten: () => {},
    });
  }
  keepalive(): void {}
  protected encode(pub: Publication): Buffer {
    return Buffer.from(`${pub.epoch}:${pub.seq};`);
  }
  protected encodeRaw(text: string): Buffer {
    return Buffer.from(text);
  }
  protected encodeControl(json: string): Buffer {
    return Buffer.from(json);
  }
  protected write(data: Buffer): void {
    this.written.push(...data.toString().split(';').filter(Boolean));
  }
  protected bufferedBytes(): number {
    return 0;
  }
  protected closeTransport(_code: CloseCode, _reason: string): void {}
  protected destroyTransport(): void {}
}

const pub = (seq: number, epoch = 'A'): Publication => ({
  channelKey: 'k',
  topic: 't',
  kind: 'data',
  epoch,
  seq,
  json: '',
});

describe('Connection after a recovery', () => {
  it('drops live messages at or below the recovered position, until one above it passes', async () => {
    const c = new RecordingConnection();
    c.markOpen();
    // History up to seq 5 was replayed; the live feed lags and still brings 4 and 5.
    c.ignoreUpTo('k', { epoch: 'A', seq: 5 });
    for (const s of [4, 5, 6, 7]) c.deliver(pub(s));
    await nextTurn();
    expect(c.written).toEqual(['A:6', 'A:7']);
  });

  it('lets a new epoch through (the channel was reset), and forgets the floor', async () => {
    const c = new RecordingConnection();
    c.markOpen();
    c.ignoreUpTo('k', { epoch: 'A', seq: 5 });
    c.deliver(pub(1, 'B'));
    c.deliver(pub(2, 'B'));
    await nextTurn();
    expect(c.written).toEqual(['B:1', 'B:2']);
  });

  it('holds live messages during a replay and releases them in order', async () => {
    const c = new RecordingConnection();
    c.markOpen();
    c.holdLive('k');
    c.deliver(pub(6));
    c.deliver(pub(7));
    c.deliverHistory(pub(5));
    c.ignoreUpTo('k', { epoch: 'A', seq: 6 });
    for (const p of c.releaseLive('k')) c.deliver(p);
    await nextTurn();
    expect(c.written).toEqual(['A:5', 'A:7']);
  });
});
