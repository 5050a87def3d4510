/** `almanac clients …`: register, list, show, update, rotate and delete client applications. */
import { parseArgs } from 'node:util';
import type { Config } from '../config/config.js';
import { ValidationError } from '../domain/errors.js';
import { ClientRegistry, type ClientUpdate } from '../oauth/client-registry.js';
import { deriveKeys } from '../crypto/keys.js';
import { openStorageMigrated, resolveSecret } from '../runtime.js';
import { ClientsRepository, type ClientRecord } from '../storage/repositories/clients.repo.js';
import { SecretBox } from '../crypto/secret-box.js';
import { WebhooksRepository } from '../storage/repositories/webhooks.repo.js';
import { WebhookSecrets } from '../webhooks/webhook-secrets.js';
import { brandingFromFlags, BRANDING_FLAGS } from './branding-flags.js';
import { UsageError, type CliIo } from './cli-io.js';
import { databaseNote } from './database-note.js';
import { CLIENTS_HELP, clientsSubcommandHelp, isClientsSubcommand, type ClientsSubcommand } from './help.js';

const CLIENT_OPTIONS = {
  json: { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
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

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

export async function clientsCommand(argv: string[], io: CliIo, config: () => Config): Promise<number> {
  const [first, ...rest] = argv;
  // `clients --help`, `clients -h`, `clients help` and a bare `clients` are all asking for help.
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    io.out(CLIENTS_HELP);
    return first === undefined ? 2 : 0;
  }
  if (first.startsWith('-')) throw new UsageError(`Expected a clients command before ${first}`, CLIENTS_HELP);
  if (!isClientsSubcommand(first)) throw new UsageError(`Unknown clients command: ${first}`, CLIENTS_HELP);
  const sub: ClientsSubcommand = first;
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: CLIENT_OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message, clientsSubcommandHelp(sub));
  }
  const { values: v, positionals } = parsed;
  if (v.help) {
    io.out(clientsSubcommandHelp(sub));
    return 0;
  }
  const usage = clientsSubcommandHelp(sub);
  const json = v.json === true;
  const print = (human: string[], data: unknown) => (json ? io.out(JSON.stringify(data)) : human.forEach((l) => io.out(l)));
  const takesId = sub !== 'create' && sub !== 'list';
  if (takesId && (positionals.length !== 1 || !positionals[0])) throw new UsageError(`clients ${sub} takes exactly one CLIENT_ID`, usage);
  if (!takesId && positionals.length > 0) throw new UsageError(`Unexpected argument: ${positionals[0]}`, usage);
  const id = positionals[0] as string;
  if (sub === 'create') {
    if (!v.name) throw new UsageError('clients create needs --name', usage);
    if (!v['redirect-uri']?.length) throw new UsageError('clients create needs at least one --redirect-uri', usage);
  }
  if (v['require-par'] && v['no-require-par']) throw new UsageError('Use either --require-par or --no-require-par', usage);

  const settings = config();
  const note = databaseNote(settings);
  if (note) io.err(note);
  const storage = await openStorageMigrated(settings);
  try {
    const repo = new ClientsRepository(storage.db);
    const keys = deriveKeys(resolveSecret(settings));
    const registry = new ClientRegistry(repo, keys.clientSecrets);
    const webhooksRepo = new WebhooksRepository(storage.db, storage.dialect, new SecretBox(keys.webhooks));
    const webhookSecrets = new WebhookSecrets(webhooksRepo);
    switch (sub) {
      case 'create': {
        const { client, clientSecret } = await registry.create({
          name: v.name as string,
          displayName: v['display-name'],
          redirectUris: v['redirect-uri'] as string[],
          webhookUrl: v['webhook-url'],
          branding: brandingFromFlags(v, {}),
          requirePar: v['require-par'] === true,
        });
        const webhookSecret = await webhookSecrets.ensure(client.clientId);
        print(
          [
            ...describe(client),
            '',
            `client_id:      ${client.clientId}`,
            `client_secret:  ${clientSecret}`,
            `webhook_secret: ${webhookSecret}`,
            '',
            'The secrets are shown only now: store them safely (rotate them with `almanac clients rotate-secret` and `rotate-webhook-secret`).',
          ],
          { clientId: client.clientId, clientSecret, webhookSecret },
        );
        return 0;
      }
      case 'list': {
        const clients = await registry.list();
        print(clients.length === 0 ? ['No clients. Create one with: almanac clients create --name NAME --redirect-uri URI'] : clients.flatMap(describe), clients.map(publicClient));
        return 0;
      }
      case 'show': {
        const client = await registry.get(id);
        print(describe(client), publicClient(client));
        return 0;
      }
      case 'update': {
        const current = await registry.get(id);
        const update: ClientUpdate = {};
        if (v.name !== undefined) update.name = v.name;
        if (v['display-name'] !== undefined && v['clear-display-name']) throw new UsageError('Use either --display-name or --clear-display-name', usage);
        if (v['display-name'] !== undefined) update.displayName = v['display-name'];
        if (v['clear-display-name']) update.displayName = null;
        let uris = v['redirect-uri'] ?? current.redirectUris;
        if (v['add-redirect-uri']) uris = [...uris, ...v['add-redirect-uri']];
        if (v['remove-redirect-uri']) {
          for (const r of v['remove-redirect-uri']) if (!uris.includes(r)) throw new ValidationError(`Redirect URI is not registered: ${r}`);
          uris = uris.filter((u) => !v['remove-redirect-uri']!.includes(u));
        }
        if (v['redirect-uri'] || v['add-redirect-uri'] || v['remove-redirect-uri']) update.redirectUris = uris;
        if (v['webhook-url'] !== undefined && v['clear-webhook-url']) throw new UsageError('Use either --webhook-url or --clear-webhook-url', usage);
        if (v['webhook-url'] !== undefined) update.webhookUrl = v['webhook-url'];
        if (v['clear-webhook-url']) update.webhookUrl = null;
        if (v['require-par']) update.requirePar = true;
        if (v['no-require-par']) update.requirePar = false;
        const branding = brandingFromFlags(v, current.branding);
        if (JSON.stringify(branding) !== JSON.stringify(current.branding)) update.branding = branding;
        if (Object.keys(update).length === 0) throw new UsageError('Nothing to update: give at least one option', usage);
        const client = await registry.update(id, update);
        // Setting the webhook URL, even to the same one, undoes a 410 Gone: deliveries to it resume.
        if (v['webhook-url'] !== undefined) await webhooksRepo.enableEndpoint(id, Date.now());
        print(['Updated.', ...describe(client)], publicClient(client));
        return 0;
      }
      case 'rotate-secret': {
        const clientSecret = await registry.rotateSecret(id);
        print([`New client_secret for ${id}: ${clientSecret}`, 'The old secret stopped working now. Existing tokens stay valid.'], { clientId: id, clientSecret });
        return 0;
      }
      case 'rotate-webhook-secret': {
        await registry.get(id);
        const { secret: webhookSecret, previousValidUntil } = await webhookSecrets.rotate(id);
        const until = previousValidUntil === null ? null : new Date(previousValidUntil).toISOString();
        print(
          [`New webhook secret for ${id}: ${webhookSecret}`, until ? `Until ${until} deliveries are signed with both the new and the old secret.` : 'This is the client’s first webhook secret.'],
          { clientId: id, webhookSecret, previousSecretValidUntil: until },
        );
        return 0;
      }
      case 'delete': {
        const client = await registry.get(id);
        const d = await repo.dependents(id);
        const what = `client ${client.clientId} ("${client.name}") with ${plural(d.users, 'user', 'users')}, ${plural(d.accounts, 'connected account', 'connected accounts')} (their stored provider credentials) and ${plural(d.liveTokenFamilies, 'live token family', 'live token families')} (every access and refresh token it issued stops working)`;
        if (!v.yes) {
          io.err(`This deletes ${what}.`);
          const answer = await io.ask?.('Delete it? Type "yes" to confirm: ');
          if (answer === undefined) throw new UsageError('Not deleted: nothing could be asked here; add --yes to confirm', usage);
          if (!/^(y|yes)$/i.test(answer.trim())) {
            io.err('Not deleted.');
            return 1;
          }
        }
        await registry.delete(id);
        print([`Deleted ${what}.`], { clientId: id, deleted: true, removed: d });
        return 0;
      }
    }
  } finally {
    await storage.close();
  }
}
