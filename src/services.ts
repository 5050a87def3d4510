/**
 * The composition root: every repository and service, built once from the
 * configuration, storage and keys. Routes receive what they need from here.
 */
import type { Config } from './config/config.js';
import type { Keys } from './crypto/keys.js';
import { SecretBox } from './crypto/secret-box.js';
import { ClientRegistry } from './oauth/client-registry.js';
import { PushedRequests } from './oauth/pushed-requests.js';
import { TokenService } from './oauth/token.service.js';
import { TokenSigner } from './oauth/token-signer.js';
import { DemoClients } from './demo/demo-client.js';
import type { Storage } from './storage/db.js';
import { Housekeeping } from './storage/housekeeping.js';
import { AccountsRepository } from './storage/repositories/accounts.repo.js';
import { AuthCodesRepository } from './storage/repositories/auth-codes.repo.js';
import { ClientsRepository } from './storage/repositories/clients.repo.js';
import { DemoClientRepository } from './storage/repositories/demo-client.repo.js';
import { EndUsersRepository } from './storage/repositories/end-users.repo.js';
import { GrantsRepository } from './storage/repositories/grants.repo.js';
import { PushedRequestsRepository } from './storage/repositories/pushed-requests.repo.js';
import { PushChannelsRepository } from './storage/repositories/push-channels.repo.js';
import { TokensRepository } from './storage/repositories/tokens.repo.js';
import { CalendarSyncRepository } from './storage/repositories/calendar-sync.repo.js';
import { CalendarsRepository } from './storage/repositories/calendars.repo.js';
import { MirrorRepository } from './storage/repositories/mirror.repo.js';
import { SyncJobsRepository } from './storage/repositories/sync-jobs.repo.js';
import { WebhooksRepository } from './storage/repositories/webhooks.repo.js';

export interface Services {
  clientsRepo: ClientsRepository;
  clients: ClientRegistry;
  users: EndUsersRepository;
  accounts: AccountsRepository;
  signer: TokenSigner;
  tokens: TokenService;
  calendars: CalendarsRepository;
  calendarSync: CalendarSyncRepository;
  jobs: SyncJobsRepository;
  mirror: MirrorRepository;
  pushed: PushedRequests;
  /** Push channels as notifications reach them (verified by their secret token). */
  pushChannels: PushChannelsRepository;
  housekeeping: Housekeeping;
  demoClients: DemoClients;
  webhooks: WebhooksRepository;
}

export function createServices(config: Pick<Config, 'publicUrl' | 'refreshGraceSeconds'>, storage: Storage, keys: Keys): Services {
  const clientsRepo = new ClientsRepository(storage.db);
  const users = new EndUsersRepository(storage.db);
  const accounts = new AccountsRepository(storage.db, new SecretBox(keys.credentials));
  const codes = new AuthCodesRepository(storage.db);
  const tokensRepo = new TokensRepository(storage.db);
  const grants = new GrantsRepository(storage.db, codes, tokensRepo, accounts);
  const pushedRepo = new PushedRequestsRepository(storage.db);
  const signer = new TokenSigner(keys.jwt, config.publicUrl);
  const tokens = new TokenService({
    signer,
    codes,
    tokens: tokensRepo,
    grants,
    lookupKey: keys.lookup,
    successorKey: keys.refreshSuccessor,
    refreshGraceMs: config.refreshGraceSeconds * 1000,
  });
  const mirrorBox = new SecretBox(keys.mirror);
  const clients = new ClientRegistry(clientsRepo, keys.clientSecrets);
  return {
    clientsRepo,
    clients,
    users,
    accounts,
    signer,
    tokens,
    calendars: new CalendarsRepository(storage.db, mirrorBox),
    calendarSync: new CalendarSyncRepository(storage.db),
    jobs: new SyncJobsRepository(storage.db, storage.dialect),
    mirror: new MirrorRepository(storage.db, mirrorBox),
    pushed: new PushedRequests(pushedRepo, keys.lookup),
    pushChannels: new PushChannelsRepository(storage.db, keys.lookup),
    housekeeping: new Housekeeping(accounts, codes, pushedRepo),
    demoClients: new DemoClients(clients, new DemoClientRepository(storage.db), keys.credentials),
    webhooks: new WebhooksRepository(storage.db, storage.dialect, new SecretBox(keys.webhooks)),
  };
}
