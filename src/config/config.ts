/**
 * Every setting Almanac reads, validated once into one typed object. This is the only
 * module that looks at process.env; everything else receives a Config.
 */
import { resolve } from 'node:path';
import { GOOGLE_DEFAULT_URLS, type GoogleSettings } from '../providers/google/google-settings.js';
import { MICROSOFT_DEFAULTS, type MicrosoftSettings } from '../providers/microsoft/microsoft-settings.js';

export interface RateLimitSettings {
  /** Requests per window for one user of one client, all their tokens together (refreshing does not reset it). */
  perToken: number;
  /** Requests per window for all tokens of one client together. */
  perClient: number;
  /** Requests per window per IP on the unauthenticated OAuth endpoints. */
  perIp: number;
  windowSeconds: number;
}

export type GoogleConfig = Omit<GoogleSettings, 'retry'> & {
  /** How long to keep retrying Google's rate limits and server errors before answering 429/502 (ms). */
  retryMaxElapsedMs: number;
};

export type MicrosoftConfig = Omit<MicrosoftSettings, 'retry' | 'concurrencyPerAccount'> & {
  /** How long to keep retrying Graph's throttling and server errors before answering 429/502 (ms). */
  retryMaxElapsedMs: number;
};

export type Role = 'all' | 'api' | 'worker';
/** Where GET /api/events reads from: always the providers, the mirror when it is fresh, or the mirror whenever it has synced. */
export type ReadMode = 'live' | 'fresh' | 'mirror';

export interface SyncConfig {
  /** Poll interval per provider kind (ms). */
  pollMs: { caldav: number; apple: number; google: number; microsoft: number };
  /** Poll interval of a calendar whose provider pushes changes (the safety net under push). */
  pushedPollMs: number;
  pastDays: number;
  futureDays: number;
  /** How often each calendar is relisted (window moves, missed changes). */
  relistEveryMs: number;
  /** Account jobs one instance runs at once. */
  concurrency: number;
  readMode: ReadMode;
  /**
   * ALMANAC_PUSH: open provider push channels (Google events.watch, Microsoft Graph subscriptions) on synced calendars.
   * Only takes effect when the public URL is https, as providers call https addresses only.
   */
  push: boolean;
}

export interface WebhookConfig {
  /** Deliver the changes an application made itself through the API too (normally suppressed). */
  echoOwnWrites: boolean;
  /** Delays before each further delivery attempt, in seconds (the first attempt is immediate). */
  retrySeconds: number[];
  /** Deliveries one instance sends at once. */
  concurrency: number;
}

/** Ten attempts over about three days (Standard Webhooks' schedule, stretched). */
export const DEFAULT_WEBHOOK_RETRY_SECONDS = [5, 300, 1800, 7200, 18_000, 36_000, 50_400, 72_000, 86_400];

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** postgres://… switches storage to PostgreSQL; otherwise SQLite in dataDir. */
  databaseUrl?: string;
  redisUrl?: string;
  /** Externally visible base URL without trailing slash (redirects, issuer, docs). */
  publicUrl: string;
  /** From ALMANAC_SECRET_KEY; when absent in embedded mode main.ts generates one into dataDir. */
  secretKey?: string;
  allowPrivateNetworks: boolean;
  logLevel: string;
  trustProxy: boolean;
  rateLimit: RateLimitSettings;
  /** Create a demo client on first start when none exists. */
  demoClient: boolean;
  /** Connected accounts one user may have (connection-status reports limitReached). */
  maxAccountsPerUser: number;
  google?: GoogleConfig;
  microsoft?: MicrosoftConfig;
  /** iCloud's CalDAV entry point (overridable for tests and proxies). */
  icloudCaldavUrl: string;
  /** Timeout for one request to a provider, in ms. */
  providerTimeoutMs: number;
  /** `api` serves requests only, `worker` runs the sync schedule only, `all` both. */
  role: Role;
  sync: SyncConfig;
  /** Largest provider answer accepted, in bytes; a larger one is a provider error. */
  providerMaxResponseBytes: number;
  /**
   * How long a just-rotated refresh token may be presented again and get its successor
   * again (a lost response must not log the user out); 0 = strict reuse detection.
   */
  refreshGraceSeconds: number;
  /** Bearer token that unlocks GET /metrics; absent = no metrics endpoint. */
  metricsToken?: string;
  /** How long a SIGTERM waits for requests in flight before closing their connections, in ms. */
  shutdownTimeoutMs: number;
  webhooks: WebhookConfig;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** Where embedded mode keeps its SQLite file and key when ALMANAC_DATA_DIR is not set (relative to the working directory). */
export const DEFAULT_DATA_DIR = './data';

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${env[name]}"`);
}

function url(env: Env, name: string, fallback: string | undefined, protocols: string[]): string | undefined {
  const raw = env[name]?.trim() || fallback;
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} is not a valid URL: "${raw}"`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${name} must use ${protocols.join(' or ')}, got "${parsed.protocol}"`);
  }
  return raw.replace(/\/+$/, '');
}


function googleConfig(env: Env): GoogleConfig | undefined {
  const clientId = env.GOOGLE_CLIENT_ID?.trim();
  const clientSecret = env.GOOGLE_CLIENT_SECRET?.trim();
  if (!clientId && !clientSecret) return undefined;
  if (!clientId || !clientSecret) {
    throw new ConfigError('GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET must be set together');
  }
  const web = ['https:', 'http:'];
  return {
    clientId,
    clientSecret,
    authUrl: url(env, 'GOOGLE_AUTH_URL', GOOGLE_DEFAULT_URLS.authUrl, web)!,
    tokenUrl: url(env, 'GOOGLE_TOKEN_URL', GOOGLE_DEFAULT_URLS.tokenUrl, web)!,
    revokeUrl: url(env, 'GOOGLE_REVOKE_URL', GOOGLE_DEFAULT_URLS.revokeUrl, web)!,
    userInfoUrl: url(env, 'GOOGLE_USERINFO_URL', GOOGLE_DEFAULT_URLS.userInfoUrl, web)!,
    apiRoot: url(env, 'GOOGLE_API_URL', GOOGLE_DEFAULT_URLS.apiRoot, web)!,
    retryMaxElapsedMs: int(env, 'GOOGLE_RETRY_MAX_ELAPSED_MS', 10_000, 0, 120_000),
  };
}

function microsoftConfig(env: Env): MicrosoftConfig | undefined {
  const clientId = env.MICROSOFT_CLIENT_ID?.trim();
  const clientSecret = env.MICROSOFT_CLIENT_SECRET?.trim();
  if (!clientId && !clientSecret) return undefined;
  if (!clientId || !clientSecret) {
    throw new ConfigError('MICROSOFT_CLIENT_ID and MICROSOFT_CLIENT_SECRET must be set together');
  }
  const tenant = env.MICROSOFT_TENANT?.trim() || MICROSOFT_DEFAULTS.tenant;
  // common, organizations, consumers, a directory (tenant) id or one of its domain names.
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]{0,253}$/.test(tenant)) {
    throw new ConfigError(`MICROSOFT_TENANT must be common, organizations, consumers, a tenant id or a domain, got "${env.MICROSOFT_TENANT}"`);
  }
  const web = ['https:', 'http:'];
  return {
    clientId,
    clientSecret,
    tenant,
    authorityUrl: url(env, 'MICROSOFT_AUTHORITY_URL', MICROSOFT_DEFAULTS.authorityUrl, web)!,
    graphUrl: url(env, 'MICROSOFT_GRAPH_URL', MICROSOFT_DEFAULTS.graphUrl, web)!,
    retryMaxElapsedMs: int(env, 'MICROSOFT_RETRY_MAX_ELAPSED_MS', 10_000, 0, 120_000),
  };
}

function oneOf<T extends string>(env: Env, name: string, fallback: T, allowed: readonly T[]): T {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${env[name]}"`);
  return raw as T;
}

function syncConfig(env: Env): SyncConfig {
  const seconds = (name: string, fallback: number) => int(env, name, fallback, 5, 86_400) * 1000;
  const caldav = seconds('ALMANAC_SYNC_POLL_SECONDS', 30);
  return {
    pollMs: {
      caldav,
      apple: seconds('ALMANAC_SYNC_POLL_SECONDS_ICLOUD', 60),
      google: seconds('ALMANAC_SYNC_POLL_SECONDS_GOOGLE', 60),
      microsoft: seconds('ALMANAC_SYNC_POLL_SECONDS_MICROSOFT', 60),
    },
    pushedPollMs: seconds('ALMANAC_SYNC_PUSHED_POLL_SECONDS', 600),
    pastDays: int(env, 'ALMANAC_MIRROR_PAST_DAYS', 365, 0, 3650),
    futureDays: int(env, 'ALMANAC_MIRROR_FUTURE_DAYS', 730, 1, 3650),
    relistEveryMs: int(env, 'ALMANAC_MIRROR_RELIST_HOURS', 24, 1, 24 * 365) * 3_600_000,
    concurrency: int(env, 'ALMANAC_SYNC_CONCURRENCY', 4, 1, 256),
    readMode: oneOf(env, 'ALMANAC_READ_MODE', 'fresh', ['live', 'fresh', 'mirror'] as const),
    push: oneOf(env, 'ALMANAC_PUSH', 'on', ['on', 'off'] as const) === 'on',
  };
}

function webhookConfig(env: Env): WebhookConfig {
  const raw = env.ALMANAC_WEBHOOK_RETRY_SECONDS?.trim();
  let retrySeconds = DEFAULT_WEBHOOK_RETRY_SECONDS;
  if (raw) {
    const parts = raw.split(',').map((p) => p.trim());
    if (parts.length > 30 || parts.some((p) => !/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 7 * 86_400)) {
      throw new ConfigError(`ALMANAC_WEBHOOK_RETRY_SECONDS must be a comma-separated list of up to 30 delays in seconds (1 to 604800), got "${raw}"`);
    }
    retrySeconds = parts.map(Number);
  }
  return {
    echoOwnWrites: bool(env, 'ALMANAC_WEBHOOK_ECHO_OWN_WRITES', false),
    retrySeconds,
    concurrency: int(env, 'ALMANAC_WEBHOOK_CONCURRENCY', 8, 1, 256),
  };
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function logLevel(env: Env): string {
  const raw = env.LOG_LEVEL?.trim().toLowerCase() || 'info';
  if (!LOG_LEVELS.includes(raw)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${env.LOG_LEVEL}"`);
  return raw;
}

export function loadConfig(env: Env = process.env): Config {
  const port = int(env, 'PORT', 3000, 0, 65535);
  const host = env.HOST?.trim() || '0.0.0.0';
  const databaseUrl = url(env, 'DATABASE_URL', undefined, ['postgres:', 'postgresql:']);
  const redisUrl = url(env, 'REDIS_URL', undefined, ['redis:', 'rediss:']);
  const publicUrl = url(env, 'ALMANAC_PUBLIC_URL', `http://localhost:${port}`, ['http:', 'https:'])!;
  const secretKey = env.ALMANAC_SECRET_KEY?.trim() || undefined;
  const metricsToken = env.ALMANAC_METRICS_TOKEN?.trim() || undefined;
  if (metricsToken !== undefined && (metricsToken.length < 16 || /[\s\u0000-\u001f\u007f]/.test(metricsToken))) {
    throw new ConfigError('ALMANAC_METRICS_TOKEN must be at least 16 characters without spaces (e.g. `openssl rand -hex 24`)');
  }
  if (secretKey !== undefined && secretKey.length < 32) {
    throw new ConfigError('ALMANAC_SECRET_KEY must be at least 32 characters (e.g. `openssl rand -base64 32`)');
  }
  return {
    port,
    host,
    dataDir: resolve(env.ALMANAC_DATA_DIR?.trim() || DEFAULT_DATA_DIR),
    databaseUrl,
    redisUrl,
    publicUrl,
    secretKey,
    allowPrivateNetworks: bool(env, 'ALMANAC_ALLOW_PRIVATE_NETWORKS', false),
    logLevel: logLevel(env),
    trustProxy: bool(env, 'ALMANAC_TRUST_PROXY', false),
    rateLimit: {
      perToken: int(env, 'ALMANAC_RATE_LIMIT_PER_TOKEN', 600, 1, 1_000_000),
      perClient: int(env, 'ALMANAC_RATE_LIMIT_PER_CLIENT', 6000, 1, 10_000_000),
      perIp: int(env, 'ALMANAC_RATE_LIMIT_PER_IP', 300, 1, 1_000_000),
      windowSeconds: int(env, 'ALMANAC_RATE_LIMIT_WINDOW_SECONDS', 60, 1, 86_400),
    },
    demoClient: bool(env, 'ALMANAC_DEMO_CLIENT', true),
    maxAccountsPerUser: int(env, 'ALMANAC_MAX_ACCOUNTS_PER_USER', 20, 1, 1000),
    google: googleConfig(env),
    microsoft: microsoftConfig(env),
    icloudCaldavUrl: `${url(env, 'ALMANAC_ICLOUD_CALDAV_URL', 'https://caldav.icloud.com/', ['https:', 'http:'])}/`,
    providerTimeoutMs: int(env, 'ALMANAC_PROVIDER_TIMEOUT_MS', 30_000, 1000, 300_000),
    role: oneOf(env, 'ALMANAC_ROLE', 'all', ['all', 'api', 'worker'] as const),
    sync: syncConfig(env),
    refreshGraceSeconds: int(env, 'ALMANAC_REFRESH_GRACE_SECONDS', 30, 0, 3600),
    providerMaxResponseBytes: int(env, 'ALMANAC_PROVIDER_MAX_RESPONSE_BYTES', 10 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024),
    metricsToken,
    shutdownTimeoutMs: int(env, 'ALMANAC_SHUTDOWN_TIMEOUT_SECONDS', 20, 1, 600) * 1000,
    webhooks: webhookConfig(env),
  };
}
