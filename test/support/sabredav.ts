/**
 * Starts SabreDAV (Debian's php-sabre-dav, the library behind Baïkal and, in later
 * versions, Nextcloud) under PHP's built-in web server, with its PDO backends on a
 * throw-away SQLite file: a CalDAV server that authenticates with HTTP Digest only, as
 * Baïkal does by default, and that has no sync-collection (the adapters fall back to
 * PROPFIND listings of ETags).
 *
 * Users, principals and the schema are written here before the server starts; calendars
 * are made over HTTP with MKCALENDAR like on the other servers. The harness's own raw
 * requests answer the Digest challenge with Almanac's Digest client; the server checks
 * them with its own implementation.
 *
 * What it cannot do (see `capabilities`): a calendar in the user's own home that the
 * user may read but not write (SabreDAV grants owners everything on their calendars).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createDavAuthorizer, sendAuthorized, type DavAuthorizer } from '../../src/providers/caldav/dav-authorizer.js';
import { mkcalendarBody, type CaldavTestServer, type RawResponse } from './caldav-test-server.js';
import { freePort, stderrTail, stopChild, waitUntilAnswering } from './child-server.js';

const PHP_BIN = process.env.PHP_BIN ?? '/usr/bin/php';
const SABRE_AUTOLOAD = '/usr/share/php/Sabre/autoload.php';
const REALM = 'SabreDAV';

function phpHasSqlite(): boolean {
  if (!existsSync(PHP_BIN)) return false;
  const modules = spawnSync(PHP_BIN, ['-m'], { encoding: 'utf8' });
  return modules.status === 0 && /^pdo_sqlite$/m.test(modules.stdout);
}

export const sabredavInstalled = existsSync(SABRE_AUTOLOAD) && phpHasSqlite();
export const SABREDAV_SKIP: string | false = sabredavInstalled ? false : 'SabreDAV not installed: apt-get install -y php-cli php-sqlite3 php-sabre-dav';

export interface SabredavServer extends CaldavTestServer {
  readonly kind: 'sabredav';
}

const SCHEMA = `
CREATE TABLE users (id integer primary key asc, username TEXT, digesta1 TEXT, UNIQUE(username));
CREATE TABLE principals (id INTEGER PRIMARY KEY ASC, uri TEXT, email TEXT, displayname TEXT, vcardurl TEXT, UNIQUE(uri));
CREATE TABLE groupmembers (id INTEGER PRIMARY KEY ASC, principal_id INTEGER, member_id INTEGER, UNIQUE(principal_id, member_id));
CREATE TABLE calendarobjects (id integer primary key asc, calendardata blob, uri text, calendarid integer, lastmodified integer,
  etag text, size integer, componenttype text, firstoccurence integer, lastoccurence integer);
CREATE TABLE calendars (id integer primary key asc, principaluri text, displayname text, uri text, ctag integer, description text,
  calendarorder integer, calendarcolor text, timezone text, components text, transparent bool);
`;

const SERVER_PHP = `<?php
$pdo = new \\PDO('sqlite:' . __DIR__ . '/sabre.sqlite');
$pdo->setAttribute(PDO::ATTR_ERRMODE, PDO::ERRMODE_EXCEPTION);
require_once '${SABRE_AUTOLOAD}';
$principals = new \\Sabre\\DAVACL\\PrincipalBackend\\PDO($pdo);
$server = new \\Sabre\\DAV\\Server(array(
    new \\Sabre\\CalDAV\\Principal\\Collection($principals),
    new \\Sabre\\CalDAV\\CalendarRootNode($principals, new \\Sabre\\CalDAV\\Backend\\PDO($pdo)),
));
$server->setBaseUri('/');
$server->addPlugin(new \\Sabre\\DAV\\Auth\\Plugin(new \\Sabre\\DAV\\Auth\\Backend\\PDO($pdo), '${REALM}'));
$server->addPlugin(new \\Sabre\\DAVACL\\Plugin());
$server->addPlugin(new \\Sabre\\CalDAV\\Plugin());
$server->exec();
`;

function prepareDatabase(file: string, users: Record<string, string>): void {
  const db = new Database(file);
  try {
    db.exec(SCHEMA);
    const addUser = db.prepare('insert into users (username, digesta1) values (?, ?)');
    const addPrincipal = db.prepare('insert into principals (uri, email, displayname) values (?, ?, ?)');
    for (const [user, password] of Object.entries(users)) {
      if (!/^[A-Za-z0-9@._-]+$/.test(user)) throw new Error(`sabredav harness: unsupported user name ${user}`);
      addUser.run(user, createHash('md5').update(`${user}:${REALM}:${password}`).digest('hex'));
      addPrincipal.run(`principals/${user}`, `${user}@example.org`, user);
      addPrincipal.run(`principals/${user}/calendar-proxy-read`, null, null);
      addPrincipal.run(`principals/${user}/calendar-proxy-write`, null, null);
    }
  } finally {
    db.close();
  }
}

async function launch(dir: string): Promise<{ child: ChildProcess; port: number; log: () => string }> {
  let lastError: unknown;
  // The free port can be taken between probing and PHP binding it: try again.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn(
      PHP_BIN,
      // SabreDAV 1.8 predates PHP 8: its deprecation notices go to the log, never into answers.
      ['-d', 'display_errors=0', '-d', 'log_errors=1', '-d', 'date.timezone=UTC', '-S', `127.0.0.1:${port}`, join(dir, 'server.php')],
      // Its own process group: the workers PHP forks are stopped with it (see stopGroup).
      { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, PHP_CLI_SERVER_WORKERS: '4' }, detached: true },
    );
    const log = stderrTail(child);
    try {
      await waitUntilAnswering(`http://127.0.0.1:${port}/`, child, log, 'sabredav');
      return { child, port, log };
    } catch (err) {
      lastError = err;
      signalGroup(child, 'SIGKILL');
    }
  }
  throw lastError;
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** PHP's workers outlive a master stopped alone, and hold its stderr open: stop the whole group. */
async function stopGroup(child: ChildProcess): Promise<void> {
  signalGroup(child, 'SIGTERM');
  await stopChild(child);
  signalGroup(child, 'SIGKILL');
  child.stderr?.destroy();
}

export async function startSabredav(options: { users: Record<string, string> }): Promise<SabredavServer> {
  if (!sabredavInstalled) throw new Error('SabreDAV not installed: apt-get install -y php-cli php-sqlite3 php-sabre-dav');
  const dir = await mkdtemp(join(tmpdir(), 'almanac-sabredav-'));
  let child: ChildProcess;
  let port: number;
  try {
    prepareDatabase(join(dir, 'sabre.sqlite'), options.users);
    await writeFile(join(dir, 'server.php'), SERVER_PHP);
    ({ child, port } = await launch(dir));
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  // A run that ends without stop() (a failing before hook, a cancelled file) leaves nothing behind.
  const killOnExit = (): void => {
    signalGroup(child, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);
  const base = `http://127.0.0.1:${port}/`;
  const calendarUrl = (user: string, slug: string): string => new URL(`/calendars/${user}/${slug}/`, base).toString();
  const authorizers = new Map<string, DavAuthorizer>();

  async function request(user: string, method: string, url: string, body?: string, headers: Record<string, string> = {}): Promise<RawResponse> {
    const password = options.users[user];
    if (password === undefined) throw new Error(`unknown test user ${user}`);
    const target = new URL(url, base).toString();
    let authorizer = authorizers.get(user);
    if (!authorizer) authorizers.set(user, (authorizer = createDavAuthorizer({ username: user, password })));
    const response = await sendAuthorized(authorizer, target, method, body, (authorization) =>
      fetch(target, { method, headers: { authorization, ...headers }, ...(body === undefined ? {} : { body }) }),
    );
    return { status: response.status, body: await response.text(), etag: response.headers.get('etag') };
  }

  const readOnlyUnsupported = 'SabreDAV grants the owner of a calendar every privilege on it: no read-only calendar in a user\'s own home';

  return {
    kind: 'sabredav',
    url: base,
    port,
    users: options.users,
    capabilities: {
      calendarDescription: true,
      calendarTimezone: true,
      componentSets: true,
      readOnlyCalendars: readOnlyUnsupported,
      uidConflicts: 'SabreDAV 1.8 stores a second object with a UID the calendar already holds',
    },
    homeUrl: (user) => new URL(`/calendars/${user}/`, base).toString(),
    calendarUrl,
    async makeReadOnly() {
      throw new Error(readOnlyUnsupported);
    },
    request,
    get: (user, url) => request(user, 'GET', url),
    put: (user, url, ics, headers = {}) => request(user, 'PUT', url, ics, { 'content-type': 'text/calendar; charset=utf-8', ...headers }),
    async mkcalendar(user, slug, spec = {}) {
      const body = mkcalendarBody(spec);
      const url = calendarUrl(user, slug);
      const response = await request(user, 'MKCALENDAR', url, body, { 'content-type': 'application/xml; charset=utf-8' });
      if (response.status !== 201) throw new Error(`MKCALENDAR ${url} answered ${response.status}: ${response.body}`);
      return url;
    },
    async stop() {
      process.removeListener('exit', killOnExit);
      await stopGroup(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
