/** The CLI's help texts: one for `almanac`, one per command group, one per clients subcommand. */

export const MAIN_HELP = `Almanac: a self-hosted calendar API, wire-compatible with Mobiscroll Connect.

Usage: almanac <command> [options]

Commands:
  serve          Start the server (what npm start runs)
  migrate        Apply database migrations and exit
  demo           Show the demo client's credentials and a ready authorize URL
  clients        Register and manage client applications (see almanac clients --help)
  webhooks       Webhook deliveries: list, replay, send a test (see almanac webhooks --help)

Options:
  -h, --help     Show this help; almanac <command> --help shows a command's
  -v, --version  Show the version

Settings come from environment variables (docs/configuration.md). The database is
SQLite in ./data unless ALMANAC_DATA_DIR or DATABASE_URL says otherwise; every
command names the database it used when it is not that one.
Exit codes: 0 success, 1 failure, 2 usage error, 3 not found, 4 invalid value.`;

const REQUIRE_PAR = `--require-par: refuse plain authorize URLs for this client; it must push its requests
  (POST /api/oauth/par), which lets the connect pages show the user's existing accounts.`;

const BRANDING = `Branding options (create, update):
  --logo-url URL  --logo-dark-url URL  --primary-color #RRGGBB  --theme auto|light|dark
  --hide-footer | --show-footer  --support-contact TEXT  --clear-branding (update)`;

export const CLIENTS_SUBCOMMANDS = {
  create: `almanac clients create --name NAME --redirect-uri URI [--redirect-uri URI …]
                       [--display-name TEXT] [--webhook-url URL] [--require-par]
                       [branding options] [--json]
    Register an application. Prints its client_id, client_secret and webhook secret
    (whsec_…, for verifying webhook signatures); they are shown only here
    (rotate-secret and rotate-webhook-secret make new ones).`,
  list: `almanac clients list [--json]
    Every registered application.`,
  show: `almanac clients show CLIENT_ID [--json]
    One application's settings (never its secret).`,
  update: `almanac clients update CLIENT_ID [--name NAME] [--display-name TEXT | --clear-display-name]
                       [--redirect-uri URI …  (replaces the list)] [--add-redirect-uri URI …]
                       [--remove-redirect-uri URI …] [--webhook-url URL | --clear-webhook-url]
                       [--require-par | --no-require-par] [branding options] [--json]
    Change an application's settings.`,
  'rotate-secret': `almanac clients rotate-secret CLIENT_ID [--json]
    Replace the client secret (the old one stops working at once; tokens stay valid).`,
  'rotate-webhook-secret': `almanac clients rotate-webhook-secret CLIENT_ID [--json]
    Make a new webhook signing secret (webhookSecret in --json) and show it once. For
    24 hours deliveries carry signatures with both the new and the old secret, so the
    receiver can switch without missing one.`,
  delete: `almanac clients delete CLIENT_ID [--yes] [--json]
    Remove the application with its users, their connected accounts (stored provider
    credentials) and every token it was issued. Says what it removes and asks first;
    --yes skips the question (needed when there is no terminal to ask).`,
} as const;

export type ClientsSubcommand = keyof typeof CLIENTS_SUBCOMMANDS;

export function isClientsSubcommand(value: string | undefined): value is ClientsSubcommand {
  return value !== undefined && Object.hasOwn(CLIENTS_SUBCOMMANDS, value);
}

export const CLIENTS_HELP = `Usage: almanac clients <command> [options]

Commands:
${Object.values(CLIENTS_SUBCOMMANDS)
  .map((u) => `  ${u}`)
  .join('\n\n')}

${REQUIRE_PAR}

${BRANDING}

almanac clients <command> --help shows one command.`;

export function clientsSubcommandHelp(sub: ClientsSubcommand): string {
  return `Usage: ${CLIENTS_SUBCOMMANDS[sub]}${sub === 'create' || sub === 'update' ? `\n\n${REQUIRE_PAR}\n\n${BRANDING}` : ''}`;
}

export const SERVE_HELP = `Usage: almanac serve

Start the server on PORT (default 3000), the same as npm start. It prints where it
listens, the database it uses and, on a first start, a demo client to try the flow.
SIGTERM or Ctrl-C stops it after the requests in flight finish
(ALMANAC_SHUTDOWN_TIMEOUT_SECONDS, default 20).`;

export const MIGRATE_HELP = `Usage: almanac migrate

Apply the database migrations and exit (the server also applies them when it starts).`;

export const DEMO_HELP = `Usage: almanac demo [--rotate-secret] [--json]

Show the demo client (created on the first start of an empty database): its
client_id, client_secret and an authorize URL that starts the flow.
  --rotate-secret  Replace its secret with a new one, and show that.
The secret is kept sealed with the server's key so that this command can show it
again; the demo client exists for trying Almanac: delete it (almanac clients delete)
or set ALMANAC_DEMO_CLIENT=false in production.`;

export const WEBHOOKS_SUBCOMMANDS = {
  deliveries: `almanac webhooks deliveries [--client CLIENT_ID] [--status pending|delivered|failed]
                       [--since TIME] [--limit N] [--json]
    The newest deliveries (50 unless --limit): status, attempts, the receiver's last
    answer. TIME is an ISO time or a duration back from now (30m, 2h, 7d).`,
  replay: `almanac webhooks replay DELIVERY_ID | --since TIME [--client CLIENT_ID] [--json]
    Send deliveries again with the same webhook-id (receivers deduplicate on it),
    attempts counted afresh; a running server sends them.`,
  test: `almanac webhooks test CLIENT_ID [--json]
    Send a signed test delivery ({"type":"webhook.test"}) to the client's webhook URL
    now and say how it answered.`,
} as const;

export type WebhooksSubcommand = keyof typeof WEBHOOKS_SUBCOMMANDS;

export function isWebhooksSubcommand(value: string | undefined): value is WebhooksSubcommand {
  return value !== undefined && Object.hasOwn(WEBHOOKS_SUBCOMMANDS, value);
}

export const WEBHOOKS_HELP = `Usage: almanac webhooks <command> [options]

Commands:
${Object.values(WEBHOOKS_SUBCOMMANDS)
  .map((u) => `  ${u}`)
  .join('\n\n')}

almanac webhooks <command> --help shows one command.`;

export function webhooksSubcommandHelp(sub: WebhooksSubcommand): string {
  return `Usage: ${WEBHOOKS_SUBCOMMANDS[sub]}`;
}
