/**
 * The client side of WebSocket (RFC 6455) as the raw-socket load clients speak it: the upgrade
 * request, the check of its answer, and short masked frames. The lean socket (counts frames) and
 * the soak subscriber (decodes and audits them) differ in what they do per frame, not in this.
 */
import { createHash, randomBytes } from 'node:crypto';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** Largest HTTP response head accepted for the upgrade. */
export const MAX_HEAD_BYTES = 8192;

export const Op = { Continuation: 0, Text: 1, Binary: 2, Close: 8, Ping: 9, Pong: 10 } as const;

/** A fresh `Sec-WebSocket-Key`. */
export function upgradeKey(): string {
  return randomBytes(16).toString('base64');
}

/** The HTTP/1.1 upgrade request for `path` (with its query). */
export function upgradeRequest(host: string, port: number, path: string, key: string): string {
  return (
    `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`
  );
}

/** What is wrong with an upgrade response head (without its blank line), or undefined if nothing. */
export function upgradeProblem(head: string, key: string): string | undefined {
  const status = head.slice(0, head.indexOf('\r\n'));
  if (!/^HTTP\/1\.1 101 /.test(status)) return `upgrade refused: ${status}`;
  const want = createHash('sha1')
    .update(key + GUID)
    .digest('base64');
  if (/\r\nsec-websocket-accept:\s*(\S+)/i.exec(head)?.[1] !== want)
    return 'upgrade response has a wrong Sec-WebSocket-Accept';
  return undefined;
}

/** A masked client frame (zero mask key: valid, and masking becomes a copy). */
export function clientFrame(opcode: number, payload: Buffer): Buffer {
  if (payload.length > 125) throw new Error('client frames here are short control or text frames');
  const out = Buffer.alloc(6 + payload.length);
  out[0] = 0x80 | opcode;
  out[1] = 0x80 | payload.length;
  payload.copy(out, 6);
  return out;
}
