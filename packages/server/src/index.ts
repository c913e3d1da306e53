/** Embedding Herald in a Node process (tests, custom servers). The CLI is `herald`. */

export { hashSigningKey } from './auth/signing-key.js';
export { DEFAULT_ENV, TOKEN_ISSUER, TokenIssuer } from './auth/token.js';
export { type Config, configTable, defaultConfig, OPTIONS, resolveConfig } from './config.js';
export type { Engine, HistoryResult, Position, Publication } from './engine/engine.js';
export { MemoryEngine } from './engine/memory.js';
export { actionForCloseCode, type CloseCode, CloseCodes } from './protocol/close-codes.js';
export { ConfigError, type Herald, startHerald } from './server.js';
