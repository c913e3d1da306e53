/**
 * Publishing over HTTP, for any backend (not only Inngest functions).
 *
 * - One message: `POST /v1/realtime/publish?channel&topic[&run_id]`, the data JSON-encoded (so the
 *   string "123" stays a string: a raw body `123` would be the number), with an `Idempotency-Key`.
 *   A 503 or a network failure is retried with the same key, so a retry never publishes twice.
 * - A run lifecycle frame: the same endpoint with `kind=run` (no topic) and a JSON object naming
 *   the run's status; retried like a message, with its key.
 * - A stream: the same endpoint with `Content-Type: text/stream`; Herald turns the body into one
 *   datastream (start, chunks, end). A streamed body cannot be replayed, so it is not retried.
 */
import { apiUrl } from './base-url.js';
import { ApiError } from './errors.js';
import { apiError } from './http.js';
import type { RunStatus } from './run-status.js';
import { hashSigningKey, type SigningKeys, withSigningKey } from './signing-key.js';

/** Herald's answer to a publish: the message's id and its position in the channel. */
export interface PublishAck {
  id: string;
  epoch: string;
  seq: number;
  /** True when the Idempotency-Key was seen before: this is the first publish's ack, nothing was sent again. */
  duplicate: boolean;
  channel: string;
  topic: string;
}

/** Herald's answer to a run lifecycle publish. */
export interface RunPublishAck {
  id: string;
  epoch: string;
  seq: number;
  duplicate: boolean;
  channel: string;
  kind: 'run';
}

/**
 * A run's lifecycle, as `inngest` v4's `useRealtime` reads it: the status, and with `completed` the
 * run's `output` (its `result`); with `failed`, by convention, `error: { name, message }`. Other
 * fields are passed on as they are.
 */
export interface RunUpdate {
  status: RunStatus;
  output?: unknown;
  error?: unknown;
  [field: string]: unknown;
}

/** Herald's answer to a streamed publish. */
export interface StreamPublishAck {
  channel: string;
  topic: string;
  streamId: string;
  start: Omit<PublishAck, 'channel' | 'topic'>;
  end: Omit<PublishAck, 'channel' | 'topic'>;
  chunks: number;
  bytes: number;
}

export interface PublishTransport {
  baseUrl: string;
  keys: SigningKeys;
  fetch?: typeof fetch | undefined;
  /** Attempts for a retryable failure (503, network error), the first included. Default 4. */
  maxAttempts?: number | undefined;
}

export interface PublishOptions {
  /** The Inngest run this message belongs to (sent as `run_id`). */
  runId?: string | undefined;
  /** Deduplicates retries; default: a fresh random key per publish call. */
  idempotencyKey?: string | undefined;
  signal?: AbortSignal | undefined;
}

const DEFAULT_ATTEMPTS = 4;
/** First retry delay; doubled per attempt, with jitter. */
const RETRY_BASE_MS = 100;

function target(
  t: PublishTransport,
  channel: string,
  topic: string | undefined,
  runId: string | undefined,
): URL {
  const url = apiUrl(t.baseUrl, '/v1/realtime/publish');
  url.searchParams.set('channel', channel);
  if (topic === undefined) url.searchParams.set('kind', 'run');
  else url.searchParams.set('topic', topic);
  if (runId) url.searchParams.set('run_id', runId);
  return url;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });

/** A random idempotency key. `randomUUID` exists only in secure contexts; plain http pages use random bytes. */
function randomKey(): string {
  const c = globalThis.crypto;
  if (typeof c.randomUUID === 'function') return c.randomUUID();
  return Array.from(c.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

export async function publishMessage(
  t: PublishTransport,
  message: { channel: string; topic: string; data: unknown },
  options: PublishOptions = {},
): Promise<PublishAck> {
  const { channel, topic } = message;
  const body = JSON.stringify(message.data === undefined ? null : message.data);
  const url = target(t, channel, topic, options.runId);
  return postJson<PublishAck>(t, url, body, `Publishing to channel "${channel}" topic "${topic}"`, options);
}

/** Publishes a run lifecycle frame to every subscriber of `channel` (see `RunUpdate`). */
export async function publishRun(
  t: PublishTransport,
  channel: string,
  update: RunUpdate,
  options: PublishOptions = {},
): Promise<RunPublishAck> {
  const url = target(t, channel, undefined, options.runId);
  const what = `Publishing the run status "${update.status}" to channel "${channel}"`;
  return postJson<RunPublishAck>(t, url, JSON.stringify(update), what, options);
}

/** POSTs a JSON body with an Idempotency-Key; a 503 or a network failure is retried with the same key. */
async function postJson<A>(
  t: PublishTransport,
  url: URL,
  body: string,
  what: string,
  options: PublishOptions,
): Promise<A> {
  const key = options.idempotencyKey ?? randomKey();
  const doFetch = t.fetch ?? globalThis.fetch;
  const attempts = Math.max(1, t.maxAttempts ?? DEFAULT_ATTEMPTS);
  for (let attempt = 1; ; attempt++) {
    let res: Response;
    try {
      res = await withSigningKey(t.keys, (authorization) =>
        doFetch(url, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            'Idempotency-Key': key,
            ...(authorization ? { Authorization: authorization } : {}),
          },
          body,
          ...(options.signal ? { signal: options.signal } : {}),
        }),
      );
    } catch (cause) {
      if (options.signal?.aborted || attempt >= attempts)
        throw new ApiError(
          `${what} failed after ${attempt} attempt(s): ${String(cause)}`,
          0,
          undefined,
          undefined,
          {
            cause,
          },
        );
      await sleep(backoff(attempt), options.signal);
      continue;
    }
    if (res.status === 503 && attempt < attempts) {
      await res.body?.cancel().catch(() => {});
      await sleep(backoff(attempt), options.signal);
      continue;
    }
    if (!res.ok) throw await apiError(what, res);
    return (await res.json()) as A;
  }
}

function backoff(attempt: number): number {
  const base = RETRY_BASE_MS * 2 ** (attempt - 1);
  return base + Math.random() * base;
}

export type StreamSource =
  | ReadableStream<string | Uint8Array>
  | AsyncIterable<string | Uint8Array>
  | Iterable<string | Uint8Array>;

/** The source as a byte stream (text is UTF-8 encoded; the server never splits a character). */
function toByteStream(source: StreamSource): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const iterator: AsyncIterator<string | Uint8Array> | Iterator<string | Uint8Array> =
    source instanceof ReadableStream
      ? readerIterator(source.getReader())
      : Symbol.asyncIterator in source
        ? source[Symbol.asyncIterator]()
        : source[Symbol.iterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await iterator.next();
      if (done) {
        controller.close();
        return;
      }
      const bytes = typeof value === 'string' ? encoder.encode(value) : value;
      if (bytes.byteLength > 0) controller.enqueue(bytes);
    },
    async cancel(reason) {
      await iterator.return?.(reason);
    },
  });
}

function readerIterator<T>(reader: ReadableStreamDefaultReader<T>): AsyncIterator<T> {
  return {
    next: async () => {
      const r = await reader.read();
      return r.done ? { done: true, value: undefined } : { done: false, value: r.value };
    },
    return: async (reason?: unknown) => {
      await reader.cancel(reason);
      return { done: true, value: undefined };
    },
  };
}

export async function publishStream(
  t: PublishTransport,
  channel: string,
  topic: string,
  source: StreamSource,
  options: Omit<PublishOptions, 'idempotencyKey'> = {},
): Promise<StreamPublishAck> {
  const what = `Streaming to channel "${channel}" topic "${topic}"`;
  const url = target(t, channel, topic, options.runId);
  const doFetch = t.fetch ?? globalThis.fetch;
  const body = toByteStream(source);
  let res: Response;
  try {
    // No fallback-key retry: the body can be read only once. Rotate keys with the primary valid.
    const authorization = t.keys.primary ? `Bearer ${await hashSigningKey(t.keys.primary)}` : undefined;
    res = await doFetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'text/stream', ...(authorization ? { Authorization: authorization } : {}) },
      body,
      // Required by fetch for a streamed request body.
      duplex: 'half',
      ...(options.signal ? { signal: options.signal } : {}),
    } as RequestInit);
  } catch (cause) {
    throw new ApiError(`${what} failed: ${String(cause)}`, 0, undefined, undefined, { cause });
  }
  if (!res.ok) throw await apiError(what, res);
  return (await res.json()) as StreamPublishAck;
}
