/**
 * `npx almanac …`: serve, migrate, the demo client, client applications and webhooks. Human
 * output by default, `--json` for scripts; help on stdout, errors on stderr with a
 * non-zero exit code (2 usage, 3 not found, 4 invalid value, 1 anything else).
 */
import { parseArgs } from 'node:util';
import { appVersion } from '../config/app-version.js';
import { ConfigError, loadConfig, type Config } from '../config/config.js';
import { AppError, NotFoundError, ValidationError } from '../domain/errors.js';
import { openStorageMigrated } from '../runtime.js';
import { clientsCommand } from './clients-command.js';
import { UsageError, type CliIo } from './cli-io.js';
import { databaseNote } from './database-note.js';
import { demoCommand } from './demo-command.js';
import { webhooksCommand } from './webhooks-command.js';
import { MAIN_HELP, MIGRATE_HELP, SERVE_HELP } from './help.js';

export { UsageError, type CliIo } from './cli-io.js';

/** `serving`: the server runs until a signal; every other command has finished with an exit code. */
export type CliResult = number | 'serving';

/** A command that takes no options but --help. */
function onlyHelp(argv: string[], help: string): boolean {
  const { values, positionals } = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  if (positionals.length > 0) throw new UsageError(`Unexpected argument: ${positionals[0]}`, help);
  return values.help === true;
}

async function dispatch(argv: string[], io: CliIo, config: () => Config): Promise<CliResult> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
      io.out(MAIN_HELP);
      return 2;
    case 'help':
    case '--help':
    case '-h':
      io.out(MAIN_HELP);
      return 0;
    case 'version':
    case '--version':
    case '-v':
      io.out(`almanac ${appVersion()}`);
      return 0;
    case 'serve': {
      if (onlyHelp(rest, SERVE_HELP)) {
        io.out(SERVE_HELP);
        return 0;
      }
      const { serve } = await import('../main.js');
      await serve();
      return 'serving';
    }
    case 'migrate': {
      if (onlyHelp(rest, MIGRATE_HELP)) {
        io.out(MIGRATE_HELP);
        return 0;
      }
      const settings = config();
      const note = databaseNote(settings);
      if (note) io.err(note);
      const storage = await openStorageMigrated(settings);
      await storage.close();
      io.out(`Migrations applied (${storage.dialect}).`);
      return 0;
    }
    case 'demo':
      return demoCommand(rest, io, config);
    case 'clients':
      return clientsCommand(rest, io, config);
    case 'webhooks':
      return webhooksCommand(rest, io, config);
    default:
      throw new UsageError(command.startsWith('-') ? `Unknown option: ${command}` : `Unknown command: ${command}`, MAIN_HELP);
  }
}

export async function runCli(argv: string[], io: CliIo, env: Record<string, string | undefined> = process.env): Promise<CliResult> {
  try {
    return await dispatch(argv, io, () => loadConfig(env));
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`Error: ${(err as Error).message}`);
      io.err('');
      io.err(err instanceof UsageError && err.help ? err.help : MAIN_HELP);
      return 2;
    }
    if (err instanceof NotFoundError) {
      io.err(`Error: ${err.message}`);
      return 3;
    }
    if (err instanceof ValidationError || err instanceof ConfigError || err instanceof AppError) {
      io.err(`Error: ${err.message}`);
      return 4;
    }
    io.err(`Error: ${(err as Error).message}`);
    return 1;
  }
}
