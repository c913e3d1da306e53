/**
 * Bookkeeping for fault tests: a publisher that retries with idempotency keys until each message
 * is acknowledged, and an audit of what a subscriber received against what was acknowledged.
 */

export interface Acked {
  i: number;
  seq: number;
  epoch: string;
}

export interface PublishLoopOptions {
  /** Base URLs to publish to; a failure moves on to the next one. */
  urls: () => string[];
  channel: string;
  topic: string;
  count: number;
  /** Distinguishes this publisher's idempotency keys from others'. */
  name: string;
  headers?: Record<string, string>;
  /** Called after each acknowledged message. */
  onAck?: (a: Acked) => void | Promise<void>;
  /** Give up on one message after this long, in milliseconds. */
  perMessageTimeoutMs?: number;
  /** Filler characters added to each message, to make it larger. */
  pad?: number;
}

export interface PublishLoopResult {
  acked: Acked[];
  /** Failed attempts (503s, network errors) that were retried. */
  retries: number;
  /** Retries that the server recognised as already accepted. */
  duplicates: number;
}

/** Publishes `count` messages in order, each retried with the same Idempotency-Key until acked. */
export async function publishLoop(o: PublishLoopOptions): Promise<PublishLoopResult> {
  const acked: Acked[] = [];
  let retries = 0;
  let duplicates = 0;
  let u = 0;
  for (let i = 0; i < o.count; i++) {
    const deadline = Date.now() + (o.perMessageTimeoutMs ?? 30_000);
    for (;;) {
      const urls = o.urls();
      const base = urls[u % urls.length] as string;
      try {
        const q = new URLSearchParams({ channel: o.channel, topic: o.topic });
        const res = await fetch(`${base}/v1/realtime/publish?${q}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'Idempotency-Key': `${o.name}-${i}`, ...o.headers },
          body: JSON.stringify(o.pad ? { i, p: o.name, pad: 'x'.repeat(o.pad) } : { i, p: o.name }),
          signal: AbortSignal.timeout(5000),
        });
        if (res.status === 200) {
          const ack = (await res.json()) as { seq: number; epoch: string; duplicate: boolean };
          if (ack.duplicate) duplicates++;
          const a = { i, seq: ack.seq, epoch: ack.epoch };
          acked.push(a);
          await o.onAck?.(a);
          break;
        }
        await res.body?.cancel();
        if (res.status !== 503) throw new Error(`publish ${i}: unexpected status ${res.status}`);
      } catch (err) {
        if ((err as Error).message.startsWith('publish ')) throw err;
      }
      retries++;
      u++;
      if (Date.now() > deadline) throw new Error(`publish ${i}: not acknowledged within the timeout`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  return { acked, retries, duplicates };
}

export interface Audit {
  expected: number;
  received: number;
  lost: number;
  duplicated: number;
  reordered: number;
}

/**
 * Compares the positions a subscriber received with the acknowledged ones (one channel, one
 * epoch): lost = acknowledged but never received; duplicated = received more than once;
 * reordered = received after a later position.
 */
export function audit(acked: readonly { seq: number }[], receivedSeqs: readonly number[]): Audit {
  const got = new Map<number, number>();
  let reordered = 0;
  for (let k = 0; k < receivedSeqs.length; k++) {
    const s = receivedSeqs[k] as number;
    got.set(s, (got.get(s) ?? 0) + 1);
    if (k > 0 && s < (receivedSeqs[k - 1] as number)) reordered++;
  }
  let lost = 0;
  for (const a of acked) if (!got.has(a.seq)) lost++;
  let duplicated = 0;
  for (const n of got.values()) if (n > 1) duplicated += n - 1;
  return { expected: acked.length, received: receivedSeqs.length, lost, duplicated, reordered };
}
