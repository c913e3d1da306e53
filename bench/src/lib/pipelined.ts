/**
 * A count-based publisher for scenarios that need "N messages, as fast as the server accepts them":
 * HTTP/1.1 pipelining over a few raw keep-alive sockets, each with a fixed window of requests in
 * flight (a new one is written as each answer arrives). It costs far less CPU per publish than an
 * HTTP client object, so the server's publish path, not the publisher, sets the pace. Only status
 * lines are read (a JSON body never contains `HTTP/1.1 `).
 */
import { connect, type Socket } from 'node:net';

export interface PipelinedOptions {
  host: string;
  port: number;
  channel: string;
  topic: string;
  count: number;
  /** Raw sockets used (requests are spread over them). */
  connections: number;
  /** Requests in flight per socket. */
  window: number;
  /** The body of request `n` (0-based). */
  body: (n: number) => string;
  timeoutMs: number;
}

export interface PipelinedResult {
  ok: number;
  failed: number;
  ms: number;
  /** Status codes other than 200, code → count. */
  statuses: Record<string, number>;
}

const STATUS = /HTTP\/1\.1 (\d{3}) /g;

export async function publishPipelined(o: PipelinedOptions): Promise<PipelinedResult> {
  const path = `/v1/realtime/publish?channel=${encodeURIComponent(o.channel)}&topic=${encodeURIComponent(o.topic)}`;
  const head = `POST ${path} HTTP/1.1\r\nHost: ${o.host}:${o.port}\r\nContent-Type: application/json\r\nContent-Length: `;
  const request = (n: number): string => {
    const body = o.body(n);
    return `${head}${Buffer.byteLength(body)}\r\n\r\n${body}`;
  };
  let next = 0;
  let ok = 0;
  let failed = 0;
  const statuses: Record<string, number> = {};
  const started = performance.now();
  const sockets: Socket[] = [];

  const one = (share: number) =>
    new Promise<void>((resolve, reject) => {
      if (share === 0) {
        resolve();
        return;
      }
      const s = connect({ host: o.host, port: o.port });
      sockets.push(s);
      s.setNoDelay(true);
      let sent = 0;
      let answered = 0;
      let carry = '';
      const pump = () => {
        let batch = '';
        while (sent < share && sent - answered < o.window) {
          batch += request(next++);
          sent++;
        }
        if (batch) s.write(batch);
      };
      s.on('connect', pump);
      s.on('data', (d: Buffer) => {
        const text = carry + d.toString('latin1');
        STATUS.lastIndex = 0;
        let end = 0;
        for (let m = STATUS.exec(text); m; m = STATUS.exec(text)) {
          answered++;
          if (m[1] === '200') ok++;
          else {
            failed++;
            statuses[m[1] as string] = (statuses[m[1] as string] ?? 0) + 1;
          }
          end = STATUS.lastIndex;
        }
        // Keep a tail that may hold the start of a status line split across reads.
        carry = text.slice(Math.max(end, text.length - 16));
        if (answered >= share) {
          s.end();
          resolve();
        } else pump();
      });
      s.on('error', reject);
      s.on('close', () => {
        if (answered < share)
          reject(new Error(`publisher socket closed after ${answered} of ${share} answers`));
      });
    });

  let timer: NodeJS.Timeout | undefined;
  try {
    const shares = Array.from(
      { length: o.connections },
      (_, i) => Math.floor(o.count / o.connections) + (i < o.count % o.connections ? 1 : 0),
    );
    await Promise.race([
      Promise.all(shares.map(one)),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`publishing ${o.count} messages took longer than ${o.timeoutMs} ms`)),
          o.timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
    for (const s of sockets) s.destroy();
  }
  return { ok, failed, ms: performance.now() - started, statuses };
}
