#!/usr/bin/env node
/**
 * The long variant of the fuzz suites (test/hardening/fuzz-http.test.ts, fuzz-ws.test.ts):
 *
 *   npm run fuzz -- --duration 300            # about 300 s of fuzzing in all: HTTP, then WebSocket
 *   npm run fuzz -- --duration 60 --seed 42   # replay a run: same seed, same duration
 *   npm run fuzz -- --duration 120 --only ws  # one suite, for the whole duration
 *
 * It builds the server, then runs each suite with its share of the duration in HERALD_FUZZ_SECONDS
 * (and HERALD_FUZZ_SEED); without a seed each suite picks a random one and prints it. Each suite
 * adds some seconds of its own (start, settle, heap check). The counts are printed and written to
 * test-results/hardening/fuzz-http.json and fuzz-ws.json. `npm test` runs the quick variant.
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '300' },
    seed: { type: 'string' },
    only: { type: 'string' },
  },
});
const duration = Number(values.duration);
if (!Number.isFinite(duration) || duration <= 0) {
  console.error(`--duration must be a number of seconds above 0, not "${values.duration}"`);
  process.exit(2);
}
if (values.seed !== undefined && !Number.isInteger(Number(values.seed))) {
  console.error(`--seed must be an integer, not "${values.seed}"`);
  process.exit(2);
}
/** Each suite's share of the duration (the HTTP suite fuzzes two processes). */
const suites = {
  http: { file: 'test/hardening/fuzz-http.test.ts', share: 0.6 },
  ws: { file: 'test/hardening/fuzz-ws.test.ts', share: 0.4 },
};
if (values.only !== undefined && !(values.only in suites)) {
  console.error(`--only must be http or ws, not "${values.only}"`);
  process.exit(2);
}
const chosen = values.only === undefined ? Object.values(suites) : [{ ...suites[values.only], share: 1 }];

const run = (cmd, args, env = process.env) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env });
  if (r.error) throw r.error;
  return r.status ?? 1;
};

const built = run('npx', ['tsc', '-b', 'packages/server', 'packages/realtime']);
if (built !== 0) process.exit(built);
let status = 0;
for (const { file, share } of chosen) {
  const seconds = Math.max(1, Math.round(duration * share));
  const env = { ...process.env, HERALD_FUZZ_SECONDS: String(seconds) };
  if (values.seed !== undefined) env.HERALD_FUZZ_SEED = values.seed;
  console.log(`fuzz: ${file} for ${seconds} s${values.seed ? `, seed ${values.seed}` : ''}`);
  status = Math.max(status, run('npx', ['vitest', 'run', file], env));
}
process.exit(status);
