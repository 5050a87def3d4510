/**
 * Starts Debian's Radicale on a free 127.0.0.1 port with a throw-away storage folder
 * and plain-text htpasswd users. Raw HTTP helpers here deliberately bypass the
 * adapters, so tests can check what really landed on the server.
 *
 * Rights come from a file (Radicale's `from_file` backend, read again on every
 * request) whose default rules are those of `owner_only`; `makeReadOnly` puts a rule
 * before them, so a user's own calendar becomes readable but not writable, and
 * Radicale's current-user-privilege-set says so.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basicAuth, mkcalendarBody, type CaldavTestServer, type RawResponse } from './caldav-test-server.js';
import { freePort, stderrTail, stopChild, waitUntilAnswering } from './child-server.js';

export type { CalendarSpec, RawResponse } from './caldav-test-server.js';

const RADICALE_BIN = process.env.RADICALE_BIN ?? '/usr/bin/radicale';

/** False when Radicale is missing: tests pass `{ skip: RADICALE_SKIP }` then. */
export const radicaleInstalled = existsSync(RADICALE_BIN);
export const RADICALE_SKIP: string | false = radicaleInstalled ? false : 'radicale not installed: apt-get install -y radicale';

/** Calendars live directly in the principal collection: `/<user>/<slug>/`. */
export interface RadicaleServer extends CaldavTestServer {
  readonly kind: 'radicale';
  /** `makeReadOnly` under the name older tests use. */
  setReadOnly(user: string, slug: string): Promise<void>;
}

/** A literal for the rights file's regexes (Python `re`, then `str.format`, so braces doubled). */
function literalPattern(text: string): string {
  return text.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/[{}]/g, (c) => c + c);
}

/** `owner_only` written as rules: the root readable, the own principal and the calendars in it writable. */
const OWNER_RULES = [
  '[root]', 'user: .+', 'collection:', 'permissions: R', '',
  '[principal]', 'user: .+', 'collection: {user}', 'permissions: RW', '',
  '[calendars]', 'user: .+', 'collection: {user}/[^/]+', 'permissions: rw', '',
];

function rightsFile(readOnly: Array<[string, string]>): string {
  const grants = readOnly.flatMap(([user, slug], i) => [
    `[read-only-${i}]`,
    `user: ${literalPattern(user)}`,
    `collection: ${literalPattern(user)}/${literalPattern(slug)}`,
    'permissions: rR',
    '',
  ]);
  return [...grants, ...OWNER_RULES].join('\n');
}

async function launch(users: Record<string, string>): Promise<{ child: ChildProcess; port: number; dir: string; log: () => string }> {
  const dir = await mkdtemp(join(tmpdir(), 'almanac-radicale-'));
  const port = await freePort();
  await writeFile(join(dir, 'users'), Object.entries(users).map(([u, p]) => `${u}:${p}`).join('\n') + '\n');
  await writeFile(join(dir, 'rights'), rightsFile([]));
  await writeFile(
    join(dir, 'config'),
    [
      '[server]',
      `hosts = 127.0.0.1:${port}`,
      '[auth]',
      'type = htpasswd',
      `htpasswd_filename = ${join(dir, 'users')}`,
      'htpasswd_encryption = plain',
      'delay = 0',
      '[rights]',
      'type = from_file',
      `file = ${join(dir, 'rights')}`,
      '[storage]',
      `filesystem_folder = ${join(dir, 'collections')}`,
      '[web]',
      'type = none',
      '[logging]',
      'level = warning',
      '',
    ].join('\n'),
  );
  const child = spawn(RADICALE_BIN, ['--config', join(dir, 'config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  const log = stderrTail(child);
  try {
    await waitUntilAnswering(`http://127.0.0.1:${port}/`, child, log, 'radicale');
  } catch (err) {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return { child, port, dir, log };
}

export async function startRadicale(options: { users: Record<string, string> }): Promise<RadicaleServer> {
  if (!radicaleInstalled) throw new Error('radicale not installed: apt-get install -y radicale');
  let started: Awaited<ReturnType<typeof launch>> | undefined;
  let lastError: unknown;
  // The free port can be taken between probing and Radicale binding it: try again.
  for (let attempt = 0; attempt < 3 && !started; attempt++) {
    try {
      started = await launch(options.users);
    } catch (err) {
      lastError = err;
    }
  }
  if (!started) throw lastError;
  const { child, port, dir } = started;
  // A run that ends without stop() (a failing before hook, a cancelled file) leaves nothing behind.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);
  const base = `http://127.0.0.1:${port}/`;
  const readOnly: Array<[string, string]> = [];
  async function makeReadOnly(user: string, slug: string): Promise<void> {
    readOnly.push([user, slug]);
    // Radicale reads the rights file again for every request.
    await writeFile(join(dir, 'rights'), rightsFile(readOnly));
  }

  async function request(user: string, method: string, url: string, body?: string, headers: Record<string, string> = {}): Promise<RawResponse> {
    const password = options.users[user];
    if (password === undefined) throw new Error(`unknown test user ${user}`);
    const response = await fetch(new URL(url, base), {
      method,
      headers: { authorization: basicAuth(user, password), ...headers },
      ...(body === undefined ? {} : { body }),
    });
    return { status: response.status, body: await response.text(), etag: response.headers.get('etag') };
  }

  return {
    kind: 'radicale',
    url: base,
    port,
    users: options.users,
    capabilities: { calendarDescription: true, calendarTimezone: true, componentSets: true, readOnlyCalendars: true, uidConflicts: true },
    homeUrl: (user) => new URL(`/${user}/`, base).toString(),
    calendarUrl: (user, slug) => new URL(`/${user}/${slug}/`, base).toString(),
    makeReadOnly,
    setReadOnly: makeReadOnly,
    request,
    get: (user, url) => request(user, 'GET', url),
    put: (user, url, ics, headers = {}) => request(user, 'PUT', url, ics, { 'content-type': 'text/calendar; charset=utf-8', ...headers }),
    async mkcalendar(user, slug, spec = {}) {
      // Radicale creates the principal collection on the first authenticated request.
      await request(user, 'PROPFIND', `/${user}/`, undefined, { depth: '0' });
      const body = mkcalendarBody(spec);
      const path = `/${user}/${slug}/`;
      const response = await request(user, 'MKCALENDAR', path, body, { 'content-type': 'application/xml; charset=utf-8' });
      if (response.status !== 201) throw new Error(`MKCALENDAR ${path} answered ${response.status}: ${response.body}`);
      return new URL(path, base).toString();
    },
    async stop() {
      process.removeListener('exit', killOnExit);
      await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
