import { randomBytes } from 'node:crypto';

/** A fresh epoch: short, random, URL- and JSON-safe. */
export function newEpoch(): string {
  return randomBytes(6).toString('base64url');
}
