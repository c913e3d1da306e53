/**
 * Topics as they appear on the wire (in `/token` request bodies, in JWT `topics` claims and in
 * `unsub` frames): `{kind, env_id, run_id?, channel, name}`. Herald keys subscriptions by
 * (env, channel, name); `kind` is carried through but does not change routing (Inngest's non-`run`
 * kinds silently never matched anything, footgun F19).
 */
export interface WireTopic {
  kind: string;
  env_id?: string;
  run_id?: string;
  channel: string;
  name: string;
}

/** A subscription target: one topic of one channel in one env. */
export interface TopicRef {
  env: string;
  channel: string;
  topic: string;
}

/** Key of a channel within an env; the unit of ordering, history and node subscription. */
export function channelKey(env: string, channel: string): string {
  // NUL cannot appear in a validated name, so the key is unambiguous.
  return `${env}\u0000${channel}`;
}

export function splitChannelKey(key: string): { env: string; channel: string } {
  const i = key.indexOf('\u0000');
  return { env: key.slice(0, i), channel: key.slice(i + 1) };
}

export interface NameLimits {
  /** Longest channel or topic name accepted, in characters. */
  maxNameLength: number;
}

/**
 * Checks a channel or topic name: a non-empty string within the limit, with no control
 * characters. Returns an error message naming the field, or undefined when valid.
 */
export function checkName(field: string, value: unknown, limits: NameLimits): string | undefined {
  if (typeof value !== 'string') return `${field} must be a string`;
  if (value.length === 0) return `${field} must not be empty`;
  if (value.length > limits.maxNameLength)
    return `${field} is ${value.length} characters long; the limit is ${limits.maxNameLength}`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(value)) return `${field} must not contain control characters`;
  return undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parses a `/token` request body: a JSON array of topics. Each topic's `env_id` is replaced by the
 * authenticated env; `kind` defaults to `run`. At most `maxTopicsPerToken` topics in at most
 * `maxChannelsPerToken` distinct channels. Returns an error naming the offending field.
 */
export function parseTopicList(
  body: unknown,
  env: string,
  limits: NameLimits & { maxTopicsPerToken: number; maxChannelsPerToken: number },
): { topics: WireTopic[] } | { error: string; field: string } {
  if (!Array.isArray(body))
    return {
      error:
        'Invalid request: the body must be a JSON array of topics, e.g. [{"channel":"user:1","name":"ai"}]',
      field: 'body',
    };
  if (body.length > limits.maxTopicsPerToken)
    return {
      error: `a token may grant at most ${limits.maxTopicsPerToken} topics; ${body.length} were asked for`,
      field: 'body',
    };
  const topics: WireTopic[] = [];
  const channels = new Set<string>();
  for (let i = 0; i < body.length; i++) {
    const t: unknown = body[i];
    if (!isRecord(t)) return { error: `topic ${i} must be an object with channel and name`, field: `[${i}]` };
    const channelErr = checkName('channel', t.channel, limits);
    if (channelErr) return { error: `topic ${i}: ${channelErr}`, field: `[${i}].channel` };
    channels.add(t.channel as string);
    if (channels.size > limits.maxChannelsPerToken)
      return {
        error: `topic ${i}: a token may grant at most ${limits.maxChannelsPerToken} distinct channels; this topic's channel is one more`,
        field: `[${i}].channel`,
      };
    const nameErr = checkName('name', t.name, limits);
    if (nameErr) return { error: `topic ${i}: ${nameErr}`, field: `[${i}].name` };
    if (t.kind !== undefined && typeof t.kind !== 'string')
      return { error: `topic ${i}: kind must be a string`, field: `[${i}].kind` };
    const topic: WireTopic = {
      kind: typeof t.kind === 'string' && t.kind ? t.kind : 'run',
      env_id: env,
      channel: t.channel as string,
      name: t.name as string,
    };
    if (t.run_id !== undefined && t.run_id !== null && t.run_id !== '') {
      const err = checkName('run_id', t.run_id, limits);
      if (err) return { error: `topic ${i}: ${err}`, field: `[${i}].run_id` };
      topic.run_id = t.run_id as string;
    }
    topics.push(topic);
  }
  return { topics };
}
