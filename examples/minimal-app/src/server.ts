/**
 * A minimal server-rendered app on Almanac: connect a calendar, list calendars and a
 * month of events, create, edit and delete events. Plain `node:http`, no framework,
 * so that everything the SDK is used for stays in view.
 *
 *   CLIENT_ID=… CLIENT_SECRET=… npm start -w examples/minimal-app
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import { AlmanacError, AuthenticationError } from '@almanac/sdk';
import { Context, HttpError, type AppConfig } from './context.js';
import { html, STYLESHEET } from './html.js';
import { SessionStore } from './sessions.js';
import { callback } from './routes/callback.js';
import { calendars } from './routes/calendars.js';
import { createEvent, deleteEvent, editEventForm, newEventForm, updateEvent } from './routes/event-form.js';
import { events } from './routes/events.js';
import { home } from './routes/home.js';
import { login } from './routes/login.js';
import { logout } from './routes/logout.js';
import { refresh } from './routes/refresh.js';

export type { AppConfig } from './context.js';

type Handler = (ctx: Context) => Promise<void> | void;

const ROUTES: Record<string, Partial<Record<'GET' | 'POST', Handler>>> = {
  '/': { GET: home },
  '/login': { GET: login },
  '/callback': { GET: callback },
  '/calendars': { GET: calendars },
  '/events': { GET: events },
  '/events/new': { GET: newEventForm, POST: createEvent },
  '/events/edit': { GET: editEventForm, POST: updateEvent },
  '/events/delete': { POST: deleteEvent },
  '/refresh': { POST: refresh },
  '/logout': { POST: logout },
};

/**
 * Headers on every answer. The CSP allows nothing but our own stylesheet and forms
 * posting to ourselves; `no-referrer` keeps the `code` in /callback's URL out of
 * Referer headers; `no-store` because pages show the user's calendar data.
 */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function resolveConfig(options: AppConfig): AppConfig {
  for (const key of ['almanacUrl', 'clientId', 'clientSecret', 'appUrl'] as const) {
    if (!options[key]) throw new Error(`createApp: ${key} is required`);
  }
  return { ...options, almanacUrl: trimSlash(options.almanacUrl), appUrl: trimSlash(options.appUrl) };
}

/**
 * The app as a `node:http` server, not yet listening. `options` may be a function,
 * called on every request: a test can then listen on port 0 first, and register the
 * OAuth client (whose redirect URI needs that port) afterwards.
 */
export function createApp(options: AppConfig | (() => AppConfig)): Server {
  if (typeof options !== 'function') resolveConfig(options); // fail at start-up, not on the first request
  const store = new SessionStore();

  return createServer((req, res) => {
    handle(req, res, resolveConfig(typeof options === 'function' ? options() : options), store).catch((err: unknown) => {
      // Reached only if rendering the error page itself failed.
      console.error(err);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('Internal error');
    });
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, config: AppConfig, store: SessionStore): Promise<void> {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
  const url = new URL(req.url ?? '/', config.appUrl);

  if (url.pathname === '/style.css' && req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=3600' });
    res.end(STYLESHEET);
    return;
  }
  if (url.pathname === '/favicon.ico') {
    // Browsers ask for it on every visit; an empty answer keeps a 404 page out of the logs.
    res.writeHead(204);
    res.end();
    return;
  }

  const { session, setCookie } = store.resolve(req, url.protocol === 'https:');
  if (setCookie) res.setHeader('set-cookie', setCookie);
  const ctx = new Context(req, res, url, session, store, config);

  const route = ROUTES[url.pathname];
  const handler = route?.[req.method as 'GET' | 'POST'];
  try {
    if (!route) throw new HttpError(404, 'There is no such page.');
    if (!handler) {
      res.setHeader('allow', Object.keys(route).join(', '));
      throw new HttpError(405, 'This page does not accept that method.');
    }
    await handler(ctx);
  } catch (err) {
    if (res.headersSent) throw err;
    renderError(ctx, err);
  }
}

function renderError(ctx: Context, err: unknown): void {
  if (err instanceof HttpError) {
    const next = err.status === 401 ? html`<a href="/login">Connect calendar</a>` : html`<a href="/">Back to the start page</a>`;
    ctx.sendPage(err.status === 401 ? 'Connect your calendar' : 'Something went wrong', html`<p>${err.message}</p><p>${next}</p>`, { status: err.status });
    return;
  }
  if (err instanceof AuthenticationError && err.status !== 403) {
    // A 401 the SDK could not cure by refreshing (or a refused refresh): the grant is
    // gone (revoked, or the user removed the app). Only a new authorization helps.
    ctx.disconnect();
    ctx.sendPage(
      'Connect your calendar again',
      html`<p>Almanac no longer accepts this app's authorization (${err.message}).</p><p><a href="/login">Connect calendar</a></p>`,
      { status: 401 },
    );
    return;
  }
  if (err instanceof AlmanacError) {
    // The request id lets the Almanac operator find the matching server log line.
    ctx.sendPage(
      'Almanac could not do that',
      html`<p>${err.message}</p><p class="muted">${err.status ? `HTTP ${err.status}` : err.code}${err.requestId ? ` · request id ${err.requestId}` : ''}</p><p><a href="/">Back to the start page</a></p>`,
      // Almanac's own 4xx (e.g. a 404 for a vanished calendar) passes through; its failures are a bad gateway.
      { status: err.status && err.status < 500 ? err.status : 502 },
    );
    return;
  }
  console.error(err);
  ctx.sendPage('Something went wrong', html`<p>An unexpected error occurred.</p>`, { status: 500 });
}

/** Settings from the environment, with the defaults the README uses. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): AppConfig & { port: number } {
  const missing = ['CLIENT_ID', 'CLIENT_SECRET'].filter((k) => !env[k]);
  if (missing.length > 0) {
    throw new Error(
      `Set ${missing.join(' and ')}: create a client with\n  npx almanac clients create --name "Minimal app" --redirect-uri http://localhost:4000/callback --json`,
    );
  }
  const port = Number(env.PORT ?? 4000);
  return {
    almanacUrl: env.ALMANAC_URL ?? 'http://localhost:3000',
    clientId: env.CLIENT_ID!,
    clientSecret: env.CLIENT_SECRET!,
    appUrl: env.APP_URL ?? `http://localhost:${port}`,
    port,
  };
}

// Started as a program (not imported by a test): read the environment and listen.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  let settings: ReturnType<typeof configFromEnv>;
  try {
    settings = configFromEnv();
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
  const { port, ...config } = settings;
  createApp(config).listen(port, () => {
    console.log(`Minimal app on ${config.appUrl} (redirect URI ${config.appUrl}/callback), using Almanac at ${config.almanacUrl}`);
  });
}
