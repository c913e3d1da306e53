/**
 * The HTTP surface the baseline servers share with Herald, so one generator drives them all:
 * `POST /v1/realtime/token` (an unsigned token naming the topics), `POST /v1/realtime/publish`
 * (`?channel=&topic=`, JSON body), `GET /health`. Each message is the same JSON envelope Herald
 * sends, built once per publish.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const ENV_ID = '00000000-0000-4000-b000-000000000000';
const MAX_BODY = 512 * 1024;

export interface Topic {
  channel: string;
  name: string;
}

export interface Publication {
  channel: string;
  topic: string;
  /** The body as received (already checked to be JSON). */
  dataJson: string;
  seq: number;
  epoch: string;
  createdAt: string;
}

/** A token is just the base64url JSON of its topics: baselines do no auth. */
export function topicsOfToken(token: string | null): Topic[] {
  if (!token) return [];
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    return Array.isArray(parsed) ? (parsed as Topic[]) : [];
  } catch {
    return [];
  }
}

export const topicKey = (channel: string, topic: string): string => `${channel}\u0000${topic}`;

/** Herald's envelope, as text. */
export function envelope(p: Publication): string {
  return (
    `{"kind":"data","data":${p.dataJson},"created_at":"${p.createdAt}","channel":${JSON.stringify(p.channel)}` +
    `,"env_id":"${ENV_ID}","topic":${JSON.stringify(p.topic)},"epoch":"${p.epoch}","seq":${p.seq}}`
  );
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy(new Error('body too large'));
      else parts.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** An HTTP request listener; `deliver` fans a publication out and returns how many sockets got it. */
export function baselineListener(deliver: (p: Publication) => number) {
  const epoch = randomUUID();
  const seqs = new Map<string, number>();
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://baseline.invalid');
    const run = async () => {
      if (req.method === 'GET' && url.pathname === '/health') return json(res, 200, { status: 'ok' });
      if (req.method === 'POST' && url.pathname === '/v1/realtime/token') {
        const topics = JSON.parse(await readBody(req)) as Topic[];
        return json(res, 201, { jwt: Buffer.from(JSON.stringify(topics)).toString('base64url') });
      }
      if (req.method === 'POST' && url.pathname === '/v1/realtime/publish') {
        const channel = url.searchParams.get('channel');
        const topic = url.searchParams.get('topic');
        if (!channel || !topic) return json(res, 400, { error: 'channel and topic are required' });
        const body = await readBody(req);
        JSON.parse(body); // same validation cost as a real server: it must be JSON
        const seq = (seqs.get(channel) ?? 0) + 1;
        seqs.set(channel, seq);
        const p = { channel, topic, dataJson: body, seq, epoch, createdAt: new Date().toISOString() };
        const delivered = deliver(p);
        return json(res, 200, { epoch, seq, delivered });
      }
      return json(res, 404, { error: 'not found' });
    };
    run().catch((e: Error) => json(res, 400, { error: e.message }));
  };
}

/** `--port N` from argv. */
export function portArg(): number {
  const i = process.argv.indexOf('--port');
  const port = Number(process.argv[i + 1]);
  if (i < 0 || !Number.isInteger(port)) throw new Error('usage: --port <number>');
  return port;
}
