/**
 * What the subscription hands its outputs (one `Delivery` per accepted frame), and how each kind of
 * output turns it into what its reader sees: message objects shaped exactly as 0.4.7 emits them
 * (and run lifecycle messages shaped as `inngest` v4 emits them), or encoded lines.
 */
import { RealtimeError } from '../errors.js';
import { BoundedStream, DEFAULT_MAX_BUFFERED } from './bounded-stream.js';
import type { StreamMapper } from './fanout.js';
import { asyncIterable } from './iterable.js';
import { type Position, recordPosition } from './position.js';

/** Datastreams one output keeps open at once (a start without an end would otherwise stay forever). */
export const MAX_OPEN_DATASTREAMS = 1_000;

export interface Delivery {
  kind: 'data' | 'datastream-start' | 'datastream-end' | 'chunk' | 'run';
  channel: string;
  /** Empty for a run message (it belongs to the whole channel). */
  topic: string;
  data: unknown;
  createdAt: Date | undefined;
  runId: string | undefined;
  fnId: string | undefined;
  envId: string | undefined;
  /** For the datastream kinds. */
  streamId: string | undefined;
  /** Herald's position of the message in its channel (see `positionOf`). */
  position: Position | undefined;
}

export interface DataMessage {
  channel: string;
  topic: string;
  data: unknown;
  fnId: string | undefined;
  createdAt: Date;
  runId: string | undefined;
  kind: 'data';
  envId: string | undefined;
}

export interface StreamMessage {
  channel: string;
  topic: string;
  data: unknown;
  fnId: string | undefined;
  runId: string | undefined;
  kind: 'datastream-start' | 'datastream-end' | 'chunk';
  streamId: string;
  stream: ReadableStream<unknown>;
}

/** A run's lifecycle (`inngest` v4's shape): `data` names the status (see `runLifecycleOf`). */
export interface RunMessage {
  channel: string;
  /** Never set: a run message is for the whole channel, not one topic. */
  topic?: undefined;
  data: unknown;
  fnId: string | undefined;
  createdAt: Date;
  runId: string | undefined;
  kind: 'run';
  envId: string | undefined;
}

export type OutMessage = DataMessage | StreamMessage | RunMessage;

function dataMessage(d: Delivery): DataMessage {
  return {
    channel: d.channel,
    topic: d.topic,
    data: d.data,
    fnId: d.fnId,
    createdAt: d.createdAt ?? new Date(),
    runId: d.runId,
    kind: 'data',
    envId: d.envId,
  };
}

function runMessage(d: Delivery): RunMessage {
  return {
    channel: d.channel,
    data: d.data,
    fnId: d.fnId,
    createdAt: d.createdAt ?? new Date(),
    runId: d.runId,
    kind: 'run',
    envId: d.envId,
  };
}

/** A stream message's fields, but for its `stream` (each output makes its own). */
function streamFields(d: Delivery, streamId: string = d.streamId ?? '') {
  return {
    channel: d.channel,
    topic: d.topic,
    data: d.data,
    fnId: d.fnId,
    runId: d.runId,
    kind: d.kind as StreamMessage['kind'],
    streamId,
  };
}

/** Records the delivery's position for the message object its reader gets. */
function positioned<M extends object>(message: M, d: Delivery): M {
  if (d.position) recordPosition(message, d.position);
  return message;
}

/**
 * Message objects for one output. Each output gets its own `stream` per datastream (W3: 0.4.7 gave
 * every consumer the same stream, which only one could lock), bounded like any stream, and ended (or
 * errored) when the datastream ends or the output does, so nobody reading `message.stream` hangs.
 */
export function messageMapper(maxBuffered = DEFAULT_MAX_BUFFERED): StreamMapper<Delivery, OutMessage> {
  const open = new Map<string, BoundedStream<unknown>>();
  const streamFor = (id: string) => {
    let s = open.get(id);
    if (!s) {
      // A start whose end never comes must not pin memory forever: past the cap, the oldest goes.
      if (open.size >= MAX_OPEN_DATASTREAMS) {
        const [oldestId, oldest] = open.entries().next().value as [string, BoundedStream<unknown>];
        oldest.fail(
          new RealtimeError(
            'buffer_overflow',
            `More than ${MAX_OPEN_DATASTREAMS} datastreams open at once; this one was dropped`,
          ),
        );
        open.delete(oldestId);
      }
      s = new BoundedStream<unknown>(maxBuffered, `The stream of datastream ${id}`);
      open.set(id, s);
    }
    return s;
  };
  return {
    map(d) {
      if (d.kind === 'data') return positioned(dataMessage(d), d);
      if (d.kind === 'run') return positioned(runMessage(d), d);
      const streamId = d.streamId ?? '';
      const s = streamFor(streamId);
      if (d.kind === 'chunk') s.push(d.data);
      else if (d.kind === 'datastream-end') {
        s.end();
        open.delete(streamId);
      }
      return positioned({ ...streamFields(d, streamId), stream: asyncIterable(s.readable) }, d);
    },
    end() {
      for (const s of open.values()) s.end();
      open.clear();
    },
    fail(error) {
      for (const s of open.values()) s.fail(error);
      open.clear();
    },
  };
}

export type EncodedFormat = 'ndjson' | 'sse';

/**
 * Encoded lines: NDJSON (`<json>\n`, what 0.4.7 actually emitted) or SSE (`data: <json>\n\n`).
 * Stream messages are encoded without `stream` (a stream is not data); `createdAt` becomes an ISO string.
 */
export function encodedMapper(format: EncodedFormat = 'ndjson'): StreamMapper<Delivery, Uint8Array> {
  const encoder = new TextEncoder();
  return {
    map(d) {
      const m = d.kind === 'data' ? dataMessage(d) : d.kind === 'run' ? runMessage(d) : streamFields(d);
      const json = JSON.stringify(m);
      return encoder.encode(format === 'sse' ? `data: ${json}\n\n` : `${json}\n`);
    },
  };
}
