/** `almanac demo`: the demo client's credentials and a ready authorize URL, or a new secret. */
import { parseArgs } from 'node:util';
import type { Config } from '../config/config.js';
import { NotFoundError } from '../domain/errors.js';
import { deriveKeys } from '../crypto/keys.js';
import { demoAuthorizeUrl, demoBaseUrl } from '../demo/demo-client.js';
import { openStorageMigrated, resolveSecret } from '../runtime.js';
import { createServices } from '../services.js';
import { UsageError, type CliIo } from './cli-io.js';
import { databaseNote } from './database-note.js';
import { DEMO_HELP } from './help.js';

export async function demoCommand(argv: string[], io: CliIo, config: () => Config): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { 'rotate-secret': { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message, DEMO_HELP);
  }
  const { values: v, positionals } = parsed;
  if (v.help) {
    io.out(DEMO_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`Unexpected argument: ${positionals[0]}`, DEMO_HELP);
  const settings = config();
  const note = databaseNote(settings);
  if (note) io.err(note);
  const keys = deriveKeys(resolveSecret(settings));
  const storage = await openStorageMigrated(settings);
  try {
    const demo = createServices(settings, storage, keys).demoClients;
    const found = v['rotate-secret'] ? await demo.rotateSecret() : await demo.credentials();
    if (!found) {
      throw new NotFoundError('No demo client: the server creates one on its first start with an empty database (ALMANAC_DEMO_CLIENT=true). Register your own with `almanac clients create`.');
    }
    const base = demoBaseUrl(found.client) ?? settings.publicUrl;
    const authorizeUrl = demoAuthorizeUrl(base, found.client.clientId);
    if (v.json) {
      io.out(JSON.stringify({ clientId: found.client.clientId, clientSecret: found.clientSecret ?? null, redirectUri: found.client.redirectUris[0], authorizeUrl }));
      return 0;
    }
    io.out(`Demo client (its redirect is this server's ${found.client.redirectUris[0] ?? '/demo/callback'} page):`);
    io.out(`  client_id:     ${found.client.clientId}`);
    io.out(`  client_secret: ${found.clientSecret ?? '(not known here: run `almanac demo --rotate-secret` for a new one)'}`);
    if (v['rotate-secret']) io.out('The old secret stopped working now.');
    io.out('Try the flow: open this URL, connect a calendar, press Continue:');
    io.out(`  ${authorizeUrl}`);
    return 0;
  } finally {
    await storage.close();
  }
}
