// The import rules of each src/ folder's README, enforced: a folder may import the
// folders (or single modules, `folder/module`) listed for it and nothing else of
// Almanac's. The composition root (src/*.ts) may import anything.
const FOLDERS = ['api', 'application', 'cli', 'config', 'connect', 'crypto', 'demo', 'domain', 'http', 'lifecycle', 'metrics', 'oauth', 'providers', 'site', 'storage', 'sync', 'webhooks'];

/** folder → what it may import besides itself (keep in step with the folder READMEs). */
export const ALLOWED = {
  domain: [],
  crypto: [],
  // Each provider's settings module holds its defaults (endpoints), which the configuration fills in.
  config: ['domain', 'providers/google/google-settings', 'providers/microsoft/microsoft-settings'],
  storage: ['domain', 'crypto'],
  metrics: [],
  // Adapters recognise the transport's refusals (SSRF guard) to map them to provider errors.
  providers: ['domain', 'http/guarded-fetch'],
  http: ['domain', 'config', 'oauth/token-signer', 'oauth/token.service', 'oauth/scopes', 'providers/types'],
  oauth: ['domain', 'crypto', 'storage', 'connect/connect-session', 'connect/branding', 'http'],
  api: ['domain', 'providers/types', 'providers/registry', 'storage', 'http', 'application', 'oauth/scopes', 'connect/account-disconnector'],
  application: ['domain', 'providers/types', 'providers/registry', 'storage', 'api/events', 'sync/sync-window', 'config'],
  sync: ['domain', 'providers/types', 'providers/registry', 'storage', 'application/account-contexts', 'application/provider-failure-policy', 'config'],
  connect: ['domain', 'providers', 'storage', 'oauth', 'http', 'crypto', 'config'],
  demo: ['oauth/client-registry', 'storage', 'crypto', 'connect/views', 'connect/i18n', 'connect/flow-preferences', 'connect/html-pages', 'site/page-frame', 'site/api-docs.route', 'domain'],
  site: ['connect/views', 'connect/i18n', 'connect/branding', 'connect/html-pages', 'demo', 'domain'],
  lifecycle: ['config', 'demo', 'api/health.route', 'http/log-destination'],
  cli: ['config', 'storage', 'oauth/client-registry', 'demo', 'domain', 'crypto', 'connect/branding', 'webhooks'],
  // The outbox is written from inside the sync engine's page transaction (its observer types); deliveries go through the SSRF guard.
  webhooks: ['domain', 'storage', 'crypto', 'config', 'http/guarded-fetch', 'api/events', 'sync/calendar-syncer'],
};

function escape(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Modules of the composition root a folder may use (the CLI opens storage and services as the server does). */
const ROOT_ALLOWED = { cli: ['runtime', 'services'] };

/**
 * Files that assemble a folder's parts from the configuration, and so import more than the
 * folder may (the registry builder is where adapters meet settings and fetches).
 */
const ASSEMBLERS = ['src/providers/build-registry.ts'];

/** ESLint config blocks: one no-restricted-imports rule per folder. */
export function boundaries() {
  return Object.entries(ALLOWED).map(([folder, allowed]) => {
    const patterns = FOLDERS.filter((f) => f !== folder).flatMap((other) => {
      if (allowed.includes(other)) return [];
      const modules = allowed.filter((a) => a.startsWith(`${other}/`)).map((a) => a.slice(other.length + 1));
      // `../other/...` from anywhere below src/<folder>/, unless it is one of the allowed modules.
      const except = modules.length ? `(?!(${modules.map(escape).join('|')})(\\.js$|/))` : '';
      return [{ regex: `^(\\.\\./)+${escape(other)}/${except}`, message: `src/${folder} may not import this part of src/${other} (see src/${folder}/README.md)` }];
    });
    const root = ['app', 'main', 'runtime', 'services'].filter((m) => !(ROOT_ALLOWED[folder] ?? []).includes(m));
    return {
      files: [`src/${folder}/**/*.ts`],
      ignores: ASSEMBLERS,
      rules: { 'no-restricted-imports': ['error', { patterns: [...patterns, { regex: `^(\\.\\./)+(${root.join('|')})\\.js$`, message: 'The composition root imports folders, not the other way round' }] }] },
    };
  });
}
