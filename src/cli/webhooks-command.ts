/** `almanac webhooks …`: look at the delivery outbox, send deliveries again, send a signed test ping. */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { Config } from '../config/config.js';
import { NotFoundError, ValidationError } from '../domain/errors.js';
import { deriveKeys } from '../crypto/keys.js';
import { SecretBox } from '../crypto/secret-box.js';
import { openStorageMigrated, resolveSecret } from '../runtime.js';
import { ClientsRepository } from '../storage/repositories/clients.repo.js';
import { WebhooksRepository, type DeliveryRecord, type DeliveryStatus } from '../storage/repositories/webhooks.repo.js';
import { newDeliveryId } from '../webhooks/change-notifier.js';
import { DeliveryWorker } from '../webhooks/delivery-worker.js';
import { WebhookSecrets } from '../webhooks/webhook-secrets.js';
import { WebhookSigner } from '../webhooks/signing.js';
import { createDeliveryFetch } from '../webhooks/webhooks.js';
import { UsageError, type CliIo } from './cli-io.js';
import { databaseNote } from './database-note.js';
import { isWebhooksSubcommand, WEBHOOKS_HELP, webhooksSubcommandHelp } from './help.js';

const OPTIONS = {
  json: { type: 'boolean' },
  client: { type: 'string' },
  status: { type: 'string' },
  since: { type: 'string' },
  limit: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const STATUSES: readonly DeliveryStatus[] = ['pending', 'delivered', 'failed'];

/** An ISO time, or a duration back from now (`30m`, `2h`, `7d`). */
export function parseSince(value: string, now = Date.now()): number {
  const relative = /^(\d+)\s*(s|m|h|d)$/i.exec(value.trim());
  if (relative) {
    const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2]!.toLowerCase() as 's' | 'm' | 'h' | 'd'];
    return now - Number(relative[1]) * unit;
  }
  const at = Date.parse(value);
  if (Number.isNaN(at)) throw new ValidationError(`--since must be an ISO time (2026-01-31T12:00:00Z) or a duration back from now (30m, 2h, 7d), got "${value}"`);
  return at;
}

function view(d: DeliveryRecord) {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: d.id,
    clientId: d.clientId,
    type: d.type,
    channelId: d.subscriptionId,
    status: d.status,
    eventCount: d.eventCount,
    attempts: d.attempts,
    createdAt: iso(d.createdAt),
    lastAttemptAt: iso(d.lastAttemptAt),
    lastStatus: d.lastStatus,
    lastError: d.lastError,
    nextAttemptAt: d.status === 'pending' ? iso(d.nextAttemptAt) : null,
    deliveredAt: iso(d.deliveredAt),
  };
}

function line(d: DeliveryRecord): string {
  const v = view(d);
  const outcome = d.status === 'delivered' ? `delivered ${v.deliveredAt}` : d.status === 'failed' ? `failed: ${d.lastError ?? ''}` : d.attempts === 0 ? `pending, due ${v.nextAttemptAt}` : `pending, retry ${v.nextAttemptAt} (${d.lastError ?? ''})`;
  return `${d.id}  ${v.createdAt}  ${d.clientId}  ${d.type}${d.subscriptionId ? ` ${d.subscriptionId}` : ''}  ${d.eventCount} event(s)  attempts ${d.attempts}  ${outcome}`;
}

const silent = { info() {}, warn() {}, error() {} };

export async function webhooksCommand(argv: string[], io: CliIo, config: () => Config): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    io.out(WEBHOOKS_HELP);
    return first === undefined ? 2 : 0;
  }
  if (!isWebhooksSubcommand(first)) throw new UsageError(`Unknown webhooks command: ${first}`, WEBHOOKS_HELP);
  const sub = first;
  const usage = webhooksSubcommandHelp(sub);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message, usage);
  }
  const { values: v, positionals } = parsed;
  if (v.help) {
    io.out(usage);
    return 0;
  }
  const json = v.json === true;
  const status = v.status as DeliveryStatus | undefined;
  if (status !== undefined && !STATUSES.includes(status)) throw new UsageError(`--status must be one of ${STATUSES.join(', ')}`, usage);
  const since = v.since !== undefined ? parseSince(v.since) : undefined;
  let limit = 50;
  if (v.limit !== undefined) {
    if (!/^\d+$/.test(v.limit) || Number(v.limit) < 1 || Number(v.limit) > 10_000) throw new UsageError('--limit must be a number from 1 to 10000', usage);
    limit = Number(v.limit);
  }
  if (sub === 'deliveries' && positionals.length > 0) throw new UsageError(`Unexpected argument: ${positionals[0]}`, usage);
  if (sub === 'replay' && (positionals.length > 1 || (positionals.length === 1) === (since !== undefined))) throw new UsageError('webhooks replay takes either one DELIVERY_ID or --since TIME', usage);
  if (sub === 'test' && positionals.length !== 1) throw new UsageError('webhooks test takes exactly one CLIENT_ID', usage);

  const settings = config();
  const note = databaseNote(settings);
  if (note) io.err(note);
  const storage = await openStorageMigrated(settings);
  try {
    const keys = deriveKeys(resolveSecret(settings));
    const repo = new WebhooksRepository(storage.db, storage.dialect, new SecretBox(keys.webhooks));
    const clients = new ClientsRepository(storage.db);
    switch (sub) {
      case 'deliveries': {
        const rows = await repo.listDeliveries({ ...(v.client ? { clientId: v.client } : {}), ...(status ? { status } : {}), ...(since !== undefined ? { since } : {}), limit });
        if (json) io.out(JSON.stringify(rows.map(view)));
        else if (rows.length === 0) io.out('No deliveries match.');
        else rows.forEach((d) => io.out(line(d)));
        return 0;
      }
      case 'replay': {
        const id = positionals[0];
        if (id !== undefined && !(await repo.getDelivery(id))) throw new NotFoundError(`No delivery ${id}`);
        const count = await repo.replay({ ...(id !== undefined ? { id } : {}), ...(since !== undefined ? { since } : {}), ...(v.client ? { clientId: v.client } : {}) }, Date.now());
        if (json) io.out(JSON.stringify({ replayed: count }));
        else io.out(`${count} deliver${count === 1 ? 'y' : 'ies'} queued again (same webhook-id); a running server sends ${count === 1 ? 'it' : 'them'} within a second.`);
        return 0;
      }
      case 'test': {
        const clientId = positionals[0]!;
        const client = await clients.find(clientId);
        if (!client) throw new NotFoundError(`No client ${clientId}`);
        if (!client.webhookUrl) throw new ValidationError(`Client ${clientId} has no webhook URL: set one with almanac clients update ${clientId} --webhook-url URL`);
        const now = Date.now();
        const id = newDeliveryId();
        const body = JSON.stringify({ type: 'webhook.test', clientId, timestamp: new Date(now).toISOString(), message: 'A test delivery from almanac webhooks test' });
        await repo.enqueue([{ id, clientId, subscriptionId: null, type: 'webhook.test', orderKey: `test:${id}`, eventCount: 0, body }], now);
        const claimed = await repo.claim(id, `cli.${randomBytes(8).toString('hex')}`, { now, leaseMs: 60_000 });
        if (!claimed) throw new Error('The test delivery was taken by a running server before it could be sent here');
        const worker = new DeliveryWorker({
          repo,
          clients,
          secrets: new WebhookSecrets(repo),
          signer: new WebhookSigner(keys.webhookSigningSeed),
          fetch: createDeliveryFetch(settings.allowPrivateNetworks),
          log: silent,
          concurrency: 1,
          tickMs: 1000,
          leaseMs: 60_000,
          retrySeconds: settings.webhooks.retrySeconds,
        });
        const outcome = await worker.attempt(claimed);
        const after = (await repo.getDelivery(id))!;
        if (json) io.out(JSON.stringify({ ...view(after), outcome, webhookUrl: client.webhookUrl }));
        else if (outcome === 'delivered') io.out(`Delivered ${id} to ${client.webhookUrl}: it answered ${after.lastStatus}.`);
        else io.out(`Not delivered to ${client.webhookUrl}: ${after.lastError ?? 'unknown error'}${outcome === 'retry' ? ' (a running server retries it)' : ''}.`);
        return outcome === 'delivered' ? 0 : 1;
      }
    }
  } finally {
    await storage.close();
  }
}
