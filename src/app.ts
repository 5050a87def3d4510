/**
 * buildApp(deps): the Fastify instance with every route declared explicitly, no
 * listen. main.ts listens; tests listen on port 0 or use inject().
 */
import Fastify, { type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import type { Config } from './config/config.js';
import type { Keys } from './crypto/keys.js';
import { AccountContexts } from './application/account-contexts.js';
import { registerConnectionRoutes } from './api/connections.routes.js';
import { registerHealthRoutes, type Readiness } from './api/health.route.js';
import { CalendarDirectory } from './application/calendar-directory.js';
import { registerCalendarsRoute } from './api/calendars.route.js';
import { registerEventsRoutes } from './api/events.routes.js';
import { registerWebhooksRoutes } from './api/webhooks.routes.js';
import { WebhookSubscriptions } from './application/webhook-subscriptions.js';
import { WebhookSigner } from './webhooks/signing.js';
import { createCursorCodec } from './api/events/cursor-codec.js';
import { EventReader } from './application/event-reader.js';
import { EventWriter } from './application/event-writer.js';
import { MirrorFreshness } from './application/mirror-freshness.js';
import { AccountDisconnector } from './connect/account-disconnector.js';
import { PushNotifications } from './api/push-notifications.js';
import { registerGoogleWebhookRoute } from './api/google-webhook.route.js';
import type { AccountRecord } from './storage/repositories/accounts.repo.js';
import type { ConnectPages } from './connect/connect-pages.js';
import { wantsJson } from './connect/connect-pages.js';
import { registerConnectRoutes, type ConnectBaseDeps } from './connect/connect.routes.js';
import { SessionLoader } from './connect/session-loader.js';
import { SessionAccounts } from './connect/session-accounts.js';
import { createBearerGuard } from './http/bearer-guard.js';
import { installErrorHandler } from './http/error-handler.js';
import { installJsonBodyParser } from './http/json-body-parser.js';
import { createIpLimit } from './http/ip-limit.js';
import { registerOpenApi } from './http/openapi.js';
import { RateLimiter, type RateLimitStore } from './http/rate-limiter.js';
import { requestIdFrom } from './http/request-id.js';
import { registerAuthorizeRoute } from './oauth/authorize.route.js';
import { registerParRoute } from './oauth/par.route.js';
import { registerRevokeRoute } from './oauth/revoke.route.js';
import { registerTokenRoute } from './oauth/token.route.js';
import type { ProviderRegistry } from './providers/registry.js';
import type { Services } from './services.js';
import { createLoggerOptions } from './http/logger.js';
import { registerDemoCallbackRoute } from './demo/demo-callback.route.js';
import type { Metrics } from './metrics/metrics.js';
import { registerHttpMetrics } from './metrics/http-metrics.js';
import { registerMetricsRoute } from './metrics/metrics.route.js';
import { registerSyncMetrics } from './metrics/sync-metrics.js';
import { registerApiDocsRoutes } from './site/api-docs.route.js';
import { registerHomeRoute } from './site/home.route.js';
import { registerCaldavConnectRoutes } from './connect/caldav-connect.routes.js';
import { registerOAuthConnectRoutes } from './connect/oauth-connect.routes.js';
import { registerMicrosoftWebhookRoute } from './api/microsoft-webhook.route.js';
import { googleConnector, microsoftConnector } from './connect/oauth-connectors.js';
import type { GoogleOAuthClient } from './providers/google/index.js';
import type { MicrosoftOAuthClient } from './providers/microsoft/index.js';
import { discoverCaldavAccount } from './providers/caldav/index.js';
import { discoverAppleAccount } from './providers/apple/index.js';

export interface AppDeps {
  config: Config;
  keys: Keys;
  services: Services;
  rateLimitStore: RateLimitStore;
  registry: ProviderRegistry;
  /** SSRF-guarded fetch for user-supplied servers (CalDAV discovery). */
  userServerFetch: typeof fetch;
  /** Google's OAuth client, when Google is configured. */
  google?: GoogleOAuthClient;
  /** Microsoft's OAuth client, when Microsoft is configured. */
  microsoft?: MicrosoftOAuthClient;
  pages: ConnectPages;
  /** Makes an account's sync due now (after a write through the API). */
  syncSoon(accountId: string): Promise<void>;
  /** Stops an account's provider push channels before it is disconnected. */
  stopPush?(account: AccountRecord): Promise<void>;
  metrics: Metrics;
  readiness: Readiness;
  /** Where logs go: the server's stdout writer, or a test's collector. */
  logStream?: NodeJS.WritableStream;
}

const BODY_LIMIT = 256 * 1024;

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, keys, services, registry, pages } = deps;
  const app = Fastify({
    logger: createLoggerOptions(config.logLevel, deps.logStream),
    genReqId: requestIdFrom,
    requestIdHeader: false,
    trustProxy: config.trustProxy,
    bodyLimit: BODY_LIMIT,
    // Query strings and bodies are untrusted: bound parameter counts and key lengths.
    routerOptions: { maxParamLength: 500 },
  });
  app.addHook('onRequest', async (request, reply) => {
    reply.header('X-Request-Id', request.id);
    // RFC 6797 §7.2: HSTS only on answers that travelled over TLS (behind a proxy: ALMANAC_TRUST_PROXY).
    if (request.protocol === 'https') reply.header('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
  });
  registerHttpMetrics(app, deps.metrics);

  installErrorHandler(app, (request, reply, e) => pages.error(request, reply, e));
  installJsonBodyParser(app, { bodyLimit: BODY_LIMIT });
  await app.register(helmet, { contentSecurityPolicy: false, strictTransportSecurity: false, global: true });
  await app.register(cookie);
  await app.register(formbody, { bodyLimit: 64 * 1024 });
  await registerOpenApi(app, config.publicUrl);
  registerApiDocsRoutes(app, { publicUrl: config.publicUrl });

  const limiter = new RateLimiter(deps.rateLimitStore, config.rateLimit.windowSeconds * 1000, (limit) => deps.metrics.rateLimitRejections.inc({ limit }));
  const ipLimit = createIpLimit(limiter, config.rateLimit.perIp);
  const guard = createBearerGuard({ tokens: services.tokens, limiter, limits: config.rateLimit });
  const secureCookies = config.publicUrl.startsWith('https://');
  const disconnector = new AccountDisconnector(services.accounts, registry, deps.stopPush);
  const sessions = new SessionLoader(keys.cookies, services.clientsRepo, pages);
  const contexts = new AccountContexts(services.accounts, registry, (provider, outcome, seconds) => {
    deps.metrics.providerCalls.inc({ provider, outcome });
    deps.metrics.providerDuration.observe({ provider }, seconds);
  });

  deps.rateLimitStore.useLogger?.(app.log);
  registerHomeRoute(app, { publicUrl: config.publicUrl, ...(config.demoClient ? { demoClients: services.demoClients } : {}) });
  registerHealthRoutes(app, { readiness: deps.readiness, rateLimitMode: () => deps.rateLimitStore.mode ?? 'memory' });
  if (config.metricsToken) {
    registerMetricsRoute(app, { metrics: deps.metrics, token: config.metricsToken });
    registerSyncMetrics(deps.metrics, async () => {
      const now = Date.now();
      const [jobs, calendars] = await Promise.all([services.jobs.scheduleStats(now), services.calendarSync.freshnessStats(now)]);
      return {
        jobsDue: jobs.due,
        jobsRunning: jobs.running,
        oldestDueSeconds: jobs.oldestDueMs / 1000,
        calendarsByStatus: calendars.byStatus,
        calendarsFailing: calendars.failing,
        oldestSuccessAgeSeconds: calendars.oldestSuccessAgeMs / 1000,
      };
    });
  }
  // A worker instance runs the background work only: it answers health checks (and metrics), nothing else.
  if (config.role === 'worker') return app;
  registerAuthorizeRoute(app, {
    clients: services.clientsRepo,
    users: services.users,
    pushed: services.pushed,
    cookieKey: keys.cookies,
    secureCookies,
    ipLimit,
    showError: (request, reply, e) =>
      wantsJson(request) ? reply.code(e.status).send({ error: e.error, message: e.message }) : pages.error(request, reply, e),
  });
  registerParRoute(app, { clients: services.clientsRepo, pushed: services.pushed, ipLimit, clientSecretKey: keys.clientSecrets });
  registerTokenRoute(app, { tokens: services.tokens, clients: services.clientsRepo, ipLimit, clientSecretKey: keys.clientSecrets });
  registerRevokeRoute(app, { tokens: services.tokens, ipLimit });
  registerConnectionRoutes(app, { guard, accounts: services.accounts, registry, disconnector, maxAccountsPerUser: config.maxAccountsPerUser });
  const connectBase: ConnectBaseDeps = {
    cookieKey: keys.cookies,
    clients: services.clientsRepo,
    sessionAccounts: new SessionAccounts(services.accounts, disconnector, config.maxAccountsPerUser),
    registry,
    pages,
    ipLimit,
    sessions,
  };
  registerConnectRoutes(app, { ...connectBase, tokens: services.tokens, secureCookies });
  registerCaldavConnectRoutes(app, {
    ...connectBase,
    discoverCaldav: (input) => discoverCaldavAccount(deps.userServerFetch, input),
    discoverApple: (input) => discoverAppleAccount(deps.userServerFetch, { ...input, serverUrl: config.icloudCaldavUrl }),
  });
  const oauthConnect = { ...connectBase, publicUrl: config.publicUrl };
  if (deps.google) registerOAuthConnectRoutes(app, oauthConnect, googleConnector(deps.google));
  if (deps.microsoft) {
    registerOAuthConnectRoutes(app, oauthConnect, microsoftConnector(deps.microsoft));
    registerMicrosoftWebhookRoute(app, { channels: services.pushChannels, syncSoon: deps.syncSoon });
  }
  if (config.demoClient) registerDemoCallbackRoute(app, { publicUrl: config.publicUrl, demoClients: services.demoClients });
  const freshness = new MirrorFreshness(config.sync);
  const directory = new CalendarDirectory({ accounts: services.accounts, contexts, calendars: services.calendars, freshness });
  registerCalendarsRoute(app, { guard, directory });
  const reader = new EventReader({ directory, contexts, mirror: services.mirror, calendarSync: services.calendarSync, freshness, cursors: createCursorCodec(keys.cursors) });
  const writer = new EventWriter({ directory, contexts, calendarSync: services.calendarSync, syncSoon: deps.syncSoon, echoes: services.webhooks });
  registerEventsRoutes(app, { guard, reader, writer });
  const notifications = new PushNotifications({ channels: services.pushChannels, calendarSync: services.calendarSync, syncSoon: deps.syncSoon, now: Date.now });
  registerGoogleWebhookRoute(app, { notifications });
  const signer = new WebhookSigner(keys.webhookSigningSeed);
  registerWebhooksRoutes(app, {
    guard,
    subscriptions: new WebhookSubscriptions({ directory, clients: services.clientsRepo, webhooks: services.webhooks }),
    publicUrl: config.publicUrl,
    keys: () => [signer.publicKey],
  });
  return app;
}
