/**
 * Turns validated publish requests into messages for the engine: one `data` message, a datastream
 * (`datastream-start`, `chunk`s, `datastream-end`) from a streamed body, a run lifecycle frame
 * (`kind=run`: a JSON object naming the run's status, for the whole channel), or raw tee text. Transports
 * hand it bytes; it validates names (400 naming the field), encodes each message once, and answers
 * with what the engine accepted.
 */
import { randomBytes } from 'node:crypto';
import type { Ack, Engine, PublishOptions } from '../engine/engine.js';
import { badRequest, tooLarge } from './errors.js';
import { encodeBody, type MessageFields } from './message.js';
import { bodyRunStatus, RUN_STATUS_FIELDS, RUN_STATUS_NAMES } from './run-status.js';
import { channelKey, checkName, type NameLimits } from './topic.js';

export interface PublishTarget {
  env: string;
  channel: string | null;
  topic: string | null;
  /** The `kind` query parameter: `data` (the default) or `run`. */
  kind?: string | null;
  runId?: string | null;
  /** Raw `metadata` query parameter: must be a JSON object when present. */
  metadata?: string | null;
  idempotencyKey?: string | null;
}

export interface MessageAck extends Ack {
  channel: string;
  topic: string;
}

export interface RunAck extends Ack {
  channel: string;
  kind: 'run';
}

export interface StreamAck {
  channel: string;
  topic: string;
  streamId: string;
  /** Position of the datastream-start and datastream-end messages. */
  start: Ack;
  end: Ack;
  chunks: number;
  bytes: number;
}

export interface PublishObserver {
  /** Called for every message accepted, with the time the engine took, in seconds. */
  accepted(kind: MessageFields['kind'], seconds: number): void;
}

/** A publish request whose names and metadata were checked (`Publisher.validate`). */
export interface Validated {
  env: string;
  /** `run`: a run lifecycle frame, whose `topic` is empty (it belongs to the whole channel). */
  kind: 'data' | 'run';
  channel: string;
  topic: string;
  runId: string | undefined;
  metadataJson: string | undefined;
  idempotencyKey: string | undefined;
}

const utf8 = new TextDecoder('utf-8');

const SYNONYMS = Object.keys(RUN_STATUS_NAMES).filter((n) => RUN_STATUS_NAMES[n] !== n);
const RUN_BODY_RULE = `a run frame's body must be a JSON object naming the run's status in "${RUN_STATUS_FIELDS.join('", "')}": running, completed, failed or cancelled (also accepted: ${SYNONYMS.join(', ')})`;

/** The JSON text of a run frame's body: a JSON object that names a status (see run-status.ts). */
export function runBodyJson(body: Buffer): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(body));
  } catch {
    throw badRequest(`${RUN_BODY_RULE}; the body is not valid JSON`, 'body');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw badRequest(`${RUN_BODY_RULE}; the body is not an object`, 'body');
  if (bodyRunStatus(parsed as Record<string, unknown>) === undefined)
    throw badRequest(`${RUN_BODY_RULE}; it names none`, 'body');
  return JSON.stringify(parsed);
}

/**
 * The JSON text of a single-message body: valid JSON is kept (compacted); anything else becomes a
 * JSON string of the text, as Inngest does (footgun F4: a raw body `123` is the number 123; send
 * `"123"` — JSON-encoded — to publish the string).
 */
export function bodyToJson(body: Buffer): string {
  const text = utf8.decode(body);
  if (text.length === 0) return '""';
  try {
    return JSON.stringify(JSON.parse(text)) ?? JSON.stringify(text);
  } catch {
    return JSON.stringify(text);
  }
}

export class Publisher {
  /** Messages this node published (all kinds), for the inspector. */
  accepted = 0;

  constructor(
    private readonly engine: Engine,
    private readonly limits: NameLimits & { maxStreamBytes: number; maxTeeBytes: number },
    private readonly observer: PublishObserver,
  ) {}

  validate(t: PublishTarget): Validated {
    const channelErr = checkName('channel', t.channel ?? '', this.limits);
    if (channelErr) throw badRequest(`${channelErr} (query parameter "channel")`, 'channel');
    const kind = t.kind === null || t.kind === undefined || t.kind === '' ? 'data' : t.kind;
    if (kind !== 'data' && kind !== 'run')
      throw badRequest(
        `kind must be "data" (a message to a topic, the default) or "run" (a run lifecycle frame); got ${JSON.stringify(kind.slice(0, 40))}`,
        'kind',
      );
    if (kind === 'run') {
      if (t.topic !== null && t.topic !== undefined && t.topic !== '')
        throw badRequest(
          'a run frame belongs to the whole channel (every subscriber of the channel receives it): omit "topic"',
          'topic',
        );
    } else {
      const topicErr = checkName('topic', t.topic ?? '', this.limits);
      if (topicErr) throw badRequest(`${topicErr} (query parameter "topic")`, 'topic');
    }
    let runId: string | undefined;
    if (t.runId !== undefined && t.runId !== null && t.runId !== '') {
      const err = checkName('run_id', t.runId, this.limits);
      if (err) throw badRequest(err, 'run_id');
      runId = t.runId;
    }
    let metadataJson: string | undefined;
    if (t.metadata !== undefined && t.metadata !== null && t.metadata !== '') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(t.metadata);
      } catch {
        throw badRequest('metadata must be a JSON object; it is not valid JSON', 'metadata');
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw badRequest('metadata must be a JSON object', 'metadata');
      metadataJson = JSON.stringify(parsed);
    }
    return {
      env: t.env,
      kind,
      channel: t.channel as string,
      topic: kind === 'run' ? '' : (t.topic as string),
      runId,
      metadataJson,
      idempotencyKey: t.idempotencyKey || undefined,
    };
  }

  /**
   * Publishes one `data` message whose data is the body (see `bodyToJson`). Takes a validated
   * request, so a transport can refuse bad names before it reads a body.
   */
  async message(v: Validated, body: Buffer): Promise<MessageAck> {
    const ack = await this.accept(
      v,
      { kind: 'data', dataJson: bodyToJson(body), createdAt: new Date().toISOString() },
      v.idempotencyKey ? { idempotencyKey: v.idempotencyKey } : undefined,
    );
    return { ...ack, channel: v.channel, topic: v.topic };
  }

  /**
   * Publishes a run lifecycle frame whose data is the body (a JSON object naming a status, see
   * `runBodyJson`), sequenced and kept like any message; the hub gives it to every subscriber of
   * the channel.
   */
  async run(v: Validated, body: Buffer): Promise<RunAck> {
    const ack = await this.accept(
      v,
      { kind: 'run', dataJson: runBodyJson(body), createdAt: new Date().toISOString() },
      v.idempotencyKey ? { idempotencyKey: v.idempotencyKey } : undefined,
    );
    return { ...ack, channel: v.channel, kind: 'run' };
  }

  /**
   * Publishes a datastream from a streamed body. Chunks follow the body's reads but never split a
   * UTF-8 character (F16). Past `maxStreamBytes` the stream is ended (datastream-end is always sent)
   * and a 413 HttpError carrying the stream's acknowledgement is thrown.
   */
  async stream(v: Validated, body: AsyncIterable<Buffer>): Promise<StreamAck> {
    const streamId = randomBytes(8).toString('hex');
    const createdAt = new Date().toISOString();
    const idJson = JSON.stringify(streamId);
    const start = await this.accept(v, { kind: 'datastream-start', dataJson: idJson, createdAt });
    const decoder = new TextDecoder('utf-8');
    let bytes = 0;
    let chunks = 0;
    let cut = false;
    const chunk = async (text: string) => {
      if (text.length === 0) return;
      chunks++;
      await this.accept(v, {
        kind: 'chunk',
        dataJson: JSON.stringify(text),
        createdAt: new Date().toISOString(),
        streamId,
      });
    };
    let failure: unknown;
    try {
      for await (const buf of body) {
        let piece = buf;
        if (bytes + piece.length > this.limits.maxStreamBytes) {
          piece = piece.subarray(0, this.limits.maxStreamBytes - bytes);
          cut = true;
        }
        bytes += piece.length;
        await chunk(decoder.decode(piece, { stream: true }));
        if (cut) break;
      }
    } catch (err) {
      failure = err;
    }
    // Whatever happened to the body (end, abort, limit), subscribers get a complete stream.
    await chunk(decoder.decode());
    const end = await this.accept(v, { kind: 'datastream-end', dataJson: idJson, createdAt });
    const ack: StreamAck = { channel: v.channel, topic: v.topic, streamId, start, end, chunks, bytes };
    if (cut)
      throw tooLarge(
        `text/stream body exceeded ${this.limits.maxStreamBytes} bytes; the stream was ended after ${bytes} bytes`,
        { truncated: true, ...ack },
      );
    if (failure !== undefined) throw failure;
    return ack;
  }

  /** Forwards a tee body as raw text to the channel's `$stream` subscribers. */
  async tee(env: string, channel: string | null, body: AsyncIterable<Buffer>): Promise<{ bytes: number }> {
    const err = checkName('channel', channel ?? '', this.limits);
    if (err) throw badRequest(`${err} (query parameter "channel")`, 'channel');
    const key = channelKey(env, channel as string);
    const decoder = new TextDecoder('utf-8');
    let bytes = 0;
    for await (const buf of body) {
      if (bytes + buf.length > this.limits.maxTeeBytes) {
        throw tooLarge(
          `tee body exceeded ${this.limits.maxTeeBytes} bytes; the first ${bytes} bytes were forwarded`,
          {
            truncated: true,
            bytes,
          },
        );
      }
      bytes += buf.length;
      const text = decoder.decode(buf, { stream: true });
      if (text) await this.engine.publishRaw(key, '$stream', text);
    }
    const tail = decoder.decode();
    if (tail) await this.engine.publishRaw(key, '$stream', tail);
    return { bytes };
  }

  private async accept(
    v: Validated,
    m: Pick<MessageFields, 'kind' | 'dataJson' | 'createdAt' | 'streamId'>,
    options?: PublishOptions,
  ): Promise<Ack> {
    const fields: MessageFields = {
      ...m,
      env: v.env,
      channel: v.channel,
      topic: v.topic,
      ...(v.runId === undefined ? {} : { runId: v.runId }),
      ...(v.metadataJson === undefined ? {} : { metadataJson: v.metadataJson }),
    };
    const t0 = performance.now();
    const ack = await this.engine.publish(
      { channelKey: channelKey(v.env, v.channel), topic: v.topic, kind: m.kind, body: encodeBody(fields) },
      options,
    );
    this.accepted++;
    this.observer.accepted(m.kind, (performance.now() - t0) / 1000);
    return ack;
  }
}
