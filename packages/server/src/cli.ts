#!/usr/bin/env node
/**
 * `herald dev` and `herald start`. Every option comes from the table in config.ts, so the help,
 * the environment variables and docs/operations.md agree.
 */
import { Command, Option } from 'commander';
import { flagName, type Mode, OPTIONS, type OptionSpec, resolveConfig } from './config.js';
import { createLogger } from './log.js';
import { ConfigError, startHerald } from './server.js';

function banner(url: string, mode: Mode, authOff: boolean, engine: string, upstream?: string): string {
  const ws = url.replace(/^http/, 'ws');
  // In sidecar mode the upstream owns the root; Herald's own pages are under /herald/.
  const own = upstream === undefined ? url : `${url}/herald`;
  const lines = [
    '',
    `  Herald ${mode === 'dev' ? 'dev server' : 'server'}${upstream === undefined ? '' : ', sidecar mode'}`,
    '',
    `  Inspector   ${own}/`,
    `  WebSocket   ${ws}/v1/realtime/connect`,
    `  Publish     POST ${url}/v1/realtime/publish?channel=<channel>&topic=<topic>`,
    `  Tokens      POST ${url}/v1/realtime/token`,
    `  Health      ${own}/health   Metrics ${own}/metrics`,
    `  Engine      ${engine}`,
  ];
  if (upstream !== undefined)
    lines.push(`  Upstream    ${upstream} (every other path; set your apps' INNGEST_BASE_URL to ${url})`);
  lines.push('');
  if (authOff)
    lines.push(
      '  !!! AUTH IS OFF: no signing key is set. Anyone who can reach this port can publish and mint tokens.',
      '  !!! For production run `herald start --signing-key <hex>` (or set INNGEST_SIGNING_KEY).',
      '',
    );
  lines.push(`Herald listening on ${url}`);
  return lines.join('\n');
}

function addOptions(cmd: Command, mode: Mode): Command {
  for (const o of OPTIONS) {
    const d = o.defaults[mode];
    const opt = new Option(
      o.flag,
      `${o.description} [env: ${o.env.join(', ')}]${d === undefined ? '' : ` (default: ${d})`}`,
    );
    cmd.addOption(opt);
  }
  return cmd;
}

/** Where commander stores an option's value: `--max-body` → `maxBody`, which is not always the config key. */
const attributeOf = (o: OptionSpec): string => new Option(o.flag).attributeName();

async function run(mode: Mode, opts: Record<string, string | undefined>): Promise<void> {
  const flags: Record<string, string> = {};
  for (const o of OPTIONS) {
    const v: unknown = opts[attributeOf(o)];
    // Switches (no value) arrive as `true`.
    if (v !== undefined) flags[o.key] = String(v);
  }
  let config: ReturnType<typeof resolveConfig>;
  try {
    config = resolveConfig(mode, flags);
  } catch (e) {
    process.stderr.write(`herald: ${(e as Error).message}\n`);
    process.exit(2);
  }
  const log = createLogger(config.logLevel);
  let herald: Awaited<ReturnType<typeof startHerald>>;
  try {
    herald = await startHerald(config, log);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`herald: ${e.message}\n`);
      process.exit(2);
    }
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE') {
      process.stderr.write(
        `herald: port ${config.port} on ${config.host} is in use (another Herald or Inngest dev server?). Pass --port to pick another.\n`,
      );
      process.exit(1);
    }
    throw e;
  }
  const history = `history ${config.historySize} messages / ${config.historyTtlSeconds} s per channel`;
  const engine = config.redisUrl ? `redis (${history})` : `memory (${history})`;
  process.stdout.write(`${banner(herald.url, mode, !config.signingKey, engine, herald.upstream)}\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      process.stderr.write('herald: second signal, exiting now\n');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal, graceSeconds: config.shutdownGraceSeconds }, 'shutting down');
    herald.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

const program = new Command()
  .name('herald')
  .description('Herald: a self-hosted realtime server, wire-compatible with Inngest Realtime')
  .showHelpAfterError();

addOptions(
  program
    .command('dev')
    .description(
      'Development server: port 8288, in-memory engine, no signing key needed (auth off unless one is set)',
    ),
  'dev',
).action((opts) => run('dev', opts));

addOptions(program.command('start').description('Production server: requires a signing key'), 'start').action(
  (opts) => run('start', opts),
);

/** Every option of `dev` and `start`, for the top-level help: flag, meaning, environment, defaults. */
function optionsHelp(): string {
  const width = Math.max(...OPTIONS.map((o) => o.flag.length)) + 2;
  const lines = OPTIONS.map((o) => {
    const { dev, start } = o.defaults;
    const d =
      dev === undefined && start === undefined
        ? ''
        : dev === start
          ? ` (default: ${dev})`
          : ` (default: dev ${dev}, start ${start})`;
    return `  ${o.flag.padEnd(width)}${o.description} [env: ${o.env.join(', ')}]${d}`;
  });
  return `\nOptions of \`herald dev\` and \`herald start\` (flags win over environment variables):\n${lines.join('\n')}\n`;
}

program.addHelpText(
  'after',
  `${optionsHelp()}\nExamples:\n  herald dev\n  herald start --signing-key "$(openssl rand -hex 32)" --port 8288\n  herald start --help`,
);

program.parseAsync().catch((err: unknown) => {
  process.stderr.write(`herald: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});

export { flagName };
