/**
 * `npx almanac …`: serve, migrate and manage client applications. Human output by
 * default, `--json` for scripts; errors go to stderr with a non-zero exit code
 * (2 usage, 3 not found, 4 invalid value, 1 anything else).
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/config.js';
import { AppError, NotFoundError, ValidationError } from '../domain/errors.js';
import { ClientRegistry, type ClientUpdate } from '../oauth/client-registry.js';
import { ClientsRepository, type ClientRecord } from '../storage/repositories/clients.repo.js';
import { deriveKeys } from '../crypto/keys.js';
import { openStorageMigrated, resolveSecret } from '../runtime.js';
import { brandingFromFlags, BRANDING_FLAGS } from './branding-flags.js';

export class UsageError extends Error {}

const USAGE = `Usage: almanac <command> [options]

Commands:
  serve                               Start the server (same as npm start)
  migrate                             Apply database migrations and exit
  clients create --name NAME --redirect-uri URI [--redirect-uri URI …]
                 [--display-name TEXT] [--webhook-url URL] [--require-par] [branding options] [--json]
  clients list [--json]
  clients show CLIENT_ID [--json]
  clients update CLIENT_ID [--name NAME] [--display-name TEXT | --clear-display-name]
                 [--redirect-uri URI …  (replaces the list)] [--add-redirect-uri URI …]
                 [--remove-redirect-uri URI …] [--webhook-url URL | --clear-webhook-url]
                 [--require-par | --no-require-par] [branding options] [--json]
  clients rotate-secret CLIENT_ID [--json]
  clients delete CLIENT_ID [--json]

--require-par: refuse plain authorize URLs for this client; it must push its requests
  (POST /api/oauth/par), which lets the connect pages show the user's existing accounts.

Branding options:
  --logo-url URL  --logo-dark-url URL  --primary-color #RRGGBB  --theme auto|light|dark
  --hide-footer | --show-footer  --support-contact TEXT  --clear-branding

Settings come from the environment (see README): DATABASE_URL or ALMANAC_DATA_DIR.`;

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

const CLIENT_OPTIONS = {
  json: { type: 'boolean' },
  name: { type: 'string' },
  'display-name': { type: 'string' },
  'clear-display-name': { type: 'boolean' },
  'redirect-uri': { type: 'string', multiple: true },
  'add-redirect-uri': { type: 'string', multiple: true },
  'remove-redirect-uri': { type: 'string', multiple: true },
  'webhook-url': { type: 'string' },
  'clear-webhook-url': { type: 'boolean' },
  'require-par': { type: 'boolean' },
  'no-require-par': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  ...BRANDING_FLAGS,
} as const;

function publicClient(c: ClientRecord) {
  return {
    clientId: c.clientId,
    name: c.name,
    displayName: c.displayName,
    redirectUris: c.redirectUris,
    webhookUrl: c.webhookUrl,
    branding: c.branding,
    requirePar: c.requirePar,
    createdAt: new Date(c.createdAt).toISOString(),
    updatedAt: new Date(c.updatedAt).toISOString(),
  };
}

function describe(c: ClientRecord): string[] {
  const lines = [`${c.clientId}  ${c.name}${c.displayName ? ` (shown as "${c.displayName}")` : ''}`];
  for (const uri of c.redirectUris) lines.push(`  redirect URI: ${uri}`);
  if (c.webhookUrl) lines.push(`  webhook URL:  ${c.webhookUrl}`);
  if (c.requirePar) lines.push('  requires pushed authorization requests (plain authorize URLs are refused)');
  if (Object.keys(c.branding).length > 0) lines.push(`  branding:     ${JSON.stringify(c.branding)}`);
  lines.push(`  created:      ${new Date(c.createdAt).toISOString()}`);
  return lines;
}

async function clientsCommand(argv: string[], io: CliIo, env: Record<string, string | undefined>): Promise<void> {
  const [sub, ...rest] = argv;
  const { values: v, positionals } = parseArgs({ args: rest, options: CLIENT_OPTIONS, allowPositionals: true, strict: true });
  if (v.help || !sub) {
    io.out(USAGE);
    return;
  }
  const json = v.json === true;
  const print = (human: string[], data: unknown) => (json ? io.out(JSON.stringify(data)) : human.forEach((l) => io.out(l)));
  const needId = () => {
    if (positionals.length !== 1 || !positionals[0]) throw new UsageError(`clients ${sub} takes exactly one CLIENT_ID`);
    return positionals[0];
  };
  if (sub !== 'create' && sub !== 'list' && positionals.length === 0) needId();

  const config = loadConfig(env);
  const storage = await openStorageMigrated(config);
  try {
    const registry = new ClientRegistry(new ClientsRepository(storage.db), deriveKeys(resolveSecret(config)).clientSecrets);
    switch (sub) {
      case 'create': {
        if (positionals.length > 0) throw new UsageError(`Unexpected argument: ${positionals[0]}`);
        if (!v.name) throw new UsageError('clients create needs --name');
        if (!v['redirect-uri']?.length) throw new UsageError('clients create needs at least one --redirect-uri');
        if (v['require-par'] && v['no-require-par']) throw new UsageError('Use either --require-par or --no-require-par');
        const branding = brandingFromFlags(v, {});
        const { client, clientSecret } = await registry.create({
          name: v.name,
          displayName: v['display-name'],
          redirectUris: v['redirect-uri'],
          webhookUrl: v['webhook-url'],
          branding,
          requirePar: v['require-par'] === true,
        });
        print(
          [...describe(client), '', `client_id:     ${client.clientId}`, `client_secret: ${clientSecret}`, '', 'The secret is shown only now: store it safely (rotate it with `clients rotate-secret`).'],
          { clientId: client.clientId, clientSecret },
        );
        return;
      }
      case 'list': {
        const clients = await registry.list();
        print(clients.length === 0 ? ['No clients. Create one with: almanac clients create --name NAME --redirect-uri URI'] : clients.flatMap(describe), clients.map(publicClient));
        return;
      }
      case 'show': {
        const client = await registry.get(needId());
        print(describe(client), publicClient(client));
        return;
      }
      case 'update': {
        const id = needId();
        const current = await registry.get(id);
        const update: ClientUpdate = {};
        if (v.name !== undefined) update.name = v.name;
        if (v['display-name'] !== undefined && v['clear-display-name']) throw new UsageError('Use either --display-name or --clear-display-name');
        if (v['display-name'] !== undefined) update.displayName = v['display-name'];
        if (v['clear-display-name']) update.displayName = null;
        let uris = v['redirect-uri'] ?? current.redirectUris;
        if (v['add-redirect-uri']) uris = [...uris, ...v['add-redirect-uri']];
        if (v['remove-redirect-uri']) {
          for (const r of v['remove-redirect-uri']) if (!uris.includes(r)) throw new ValidationError(`Redirect URI is not registered: ${r}`);
          uris = uris.filter((u) => !v['remove-redirect-uri']!.includes(u));
        }
        if (v['redirect-uri'] || v['add-redirect-uri'] || v['remove-redirect-uri']) update.redirectUris = uris;
        if (v['webhook-url'] !== undefined && v['clear-webhook-url']) throw new UsageError('Use either --webhook-url or --clear-webhook-url');
        if (v['webhook-url'] !== undefined) update.webhookUrl = v['webhook-url'];
        if (v['clear-webhook-url']) update.webhookUrl = null;
        if (v['require-par'] && v['no-require-par']) throw new UsageError('Use either --require-par or --no-require-par');
        if (v['require-par']) update.requirePar = true;
        if (v['no-require-par']) update.requirePar = false;
        const branding = brandingFromFlags(v, current.branding);
        if (JSON.stringify(branding) !== JSON.stringify(current.branding)) update.branding = branding;
        if (Object.keys(update).length === 0) throw new UsageError('Nothing to update: give at least one option');
        const client = await registry.update(id, update);
        print(['Updated.', ...describe(client)], publicClient(client));
        return;
      }
      case 'rotate-secret': {
        const id = needId();
        const clientSecret = await registry.rotateSecret(id);
        print([`New client_secret for ${id}: ${clientSecret}`, 'The old secret stopped working now. Existing tokens stay valid.'], { clientId: id, clientSecret });
        return;
      }
      case 'delete': {
        const id = needId();
        await registry.delete(id);
        print([`Deleted client ${id} with its users, connected accounts and tokens.`], { clientId: id, deleted: true });
        return;
      }
      default:
        throw new UsageError(`Unknown clients command: ${sub}`);
    }
  } finally {
    await storage.close();
  }
}

export async function runCli(argv: string[], io: CliIo, env: Record<string, string | undefined> = process.env): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve': {
        const { serve } = await import('../main.js');
        await serve();
        return 0;
      }
      case 'migrate': {
        const storage = await openStorageMigrated(loadConfig(env));
        await storage.close();
        io.out(`Migrations applied (${storage.dialect}).`);
        return 0;
      }
      case 'clients':
        await clientsCommand(rest, io, env);
        return 0;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`Unknown command: ${command}`);
    }
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`Error: ${(err as Error).message}\nRun "almanac --help" for usage.`);
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
