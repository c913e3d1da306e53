/**
 * Subscribing with a resume position, without a gap or a duplicate at the seam (design.md,
 * "Recovery, precisely"):
 * 1. the connection is registered for the channel's live messages first (before the WebSocket
 *    upgrade), but they are held per channel;
 * 2. the channel's history after the position is read;
 * 3. a `subscribed` frame says where the stream continues and whether the position was honoured;
 * 4. history messages of the subscribed topics (and the channel's run frames) are delivered in
 *    order, paced by the connection's queue so a long replay cannot overflow it (live messages
 *    meanwhile are held, up to `Connection.heldLimit` bytes);
 * 5. held live messages already covered by the history (seq ≤ the history's top) are dropped, the
 *    rest delivered; from then on live messages flow directly, except that any at or below that top
 *    still arriving (a live feed lagging the history read, as Redis's can) are dropped too.
 */
import type { RealtimeClaims } from '../auth/token.js';
import type { Engine, Position, Publication } from '../engine/engine.js';
import { type ResumeRequest, type StartPoint, startPointFor, subscribedFrame } from '../protocol/resume.js';
import { type Connection, ConnState } from './connection.js';
import type { Hub } from './hub.js';
import { grantedTopics } from './subscriptions.js';

interface ChannelPlan {
  key: string;
  channel: string;
  topics: string[];
  start: StartPoint | undefined;
}

function plan(claims: RealtimeClaims, resume: ResumeRequest | undefined): ChannelPlan[] {
  const byKey = new Map<string, ChannelPlan>();
  for (const t of grantedTopics(claims)) {
    let p = byKey.get(t.key);
    if (p === undefined) {
      p = { key: t.key, channel: t.channel, topics: [], start: resume && startPointFor(resume, t.channel) };
      byKey.set(t.key, p);
    }
    p.topics.push(t.topic);
  }
  return [...byKey.values()];
}

/**
 * Registers every topic the token grants (phase 1). Channels with a start point hold their live
 * messages until `recover` runs. Returns what `recover` needs.
 */
export async function register(
  hub: Hub,
  c: Connection,
  claims: RealtimeClaims,
  resume: ResumeRequest | undefined,
): Promise<ChannelPlan[]> {
  const plans = plan(claims, resume);
  for (const p of plans) if (p.start !== undefined) c.holdLive(p.key);
  await Promise.all(plans.flatMap((p) => p.topics.map((t) => hub.subscribe(c, p.key, t))));
  return plans.filter((p) => p.start !== undefined);
}

/** Phases 2–5 for every channel with a start point; call once the connection is open. */
export async function recover(engine: Engine, c: Connection, plans: ChannelPlan[]): Promise<void> {
  for (const p of plans) await recoverChannel(engine, c, p);
}

async function waitForRoom(c: Connection, budget: number): Promise<void> {
  while (c.state === ConnState.Open && c.queuedBytes > budget) await new Promise((r) => setTimeout(r, 5));
}

async function recoverChannel(engine: Engine, c: Connection, p: ChannelPlan): Promise<void> {
  const start = p.start as StartPoint;
  const h = await engine.history(p.key, { since: start === 'now' ? undefined : start });
  const replays = start === 'oldest' || (start !== 'now' && h.recovered);
  const subscribed = c.subscriptions.get(p.key);
  // A run frame belongs to the whole channel: every subscriber of it gets it (once: one pass).
  const wanted = (pub: Publication) =>
    subscribed !== undefined && (pub.kind === 'run' || subscribed.includes(pub.topic));
  if (!replays) {
    // Live only: everything held was published after registration, so it all goes out.
    const held = c.releaseLive(p.key);
    const first = held[0];
    const seq =
      first !== undefined && first.epoch === h.top.epoch ? Math.min(first.seq - 1, h.top.seq) : h.top.seq;
    c.deliverControl(subscribedFrame(p.channel, { epoch: h.top.epoch, seq }, start === 'now' || h.recovered));
    c.ignoreUpTo(p.key, { epoch: h.top.epoch, seq });
    for (const pub of held) c.deliver(pub);
    return;
  }
  const from: Position =
    start === 'oldest'
      ? { epoch: h.top.epoch, seq: (h.publications[0]?.seq ?? h.top.seq + 1) - 1 }
      : (start as Position);
  c.deliverControl(subscribedFrame(p.channel, from, h.recovered));
  for (const pub of h.publications) {
    if (c.state >= ConnState.Closing) return;
    if (!wanted(pub)) continue;
    // Pace the replay by the connection's queue: wait for room rather than overflow it.
    if (c.queuedBytes + pub.json.length > c.sendQueueBytes) {
      c.flush();
      await waitForRoom(c, Math.max(0, c.sendQueueBytes - pub.json.length));
      if (c.state >= ConnState.Closing) return;
    }
    c.deliverHistory(pub);
  }
  // Held messages the history covered are dropped; so are those the live feed brings later (it can
  // lag the history read), through the connection's floor.
  c.ignoreUpTo(p.key, h.top);
  for (const pub of c.releaseLive(p.key)) c.deliver(pub);
}
