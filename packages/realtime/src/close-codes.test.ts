/** The SDK's copy of the close-code table must equal the server's (the SDK cannot import the server). */
import { describe, expect, it } from 'vitest';
import * as server from '../../server/dist/index.js';
import { actionForCloseCode, CloseCodes } from './close-codes.js';

describe('close codes', () => {
  it('equal the server table', () => {
    expect(CloseCodes).toEqual(server.CloseCodes);
  });

  it('map unknown codes the same way as the server', () => {
    for (const code of [1000, 1001, 1006, 1011, 4000, 4001, 4008, 4400, 4499, 4500, 4503, 4999, 3000]) {
      expect(actionForCloseCode(code)).toBe(server.actionForCloseCode(code));
    }
  });
});
