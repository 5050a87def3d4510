/**
 * Starts Debian's Xandikos (0.2.8) for tests, with users comparable to the Radicale
 * harness.
 *
 * Xandikos has no authentication of its own (it expects a front server to do it) and
 * one fixed current-user-principal per process. So each user gets a Xandikos process
 * of their own (`--current-user-principal /<user>/`, own temp directory), and a small
 * reverse proxy in front checks Basic credentials (401 otherwise) and routes: paths
 * under `/<user>/` to that user's process, only for that user (403 for anyone else);
 * everything else (`/`, `/.well-known/caldav`) to the caller's own process. The proxy
 * changes nothing else in requests or answers, so the adapters see Xandikos as it is.
 *
 * What 0.2.8 cannot do (see `capabilities`): set calendar-description or
 * calendar-timezone (PROPPATCH answers 409), choose a component set at MKCALENDAR,
 * or grant read-only access (no access control; current-user-privilege-set is always
 * DAV:all).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basicAuth, escapeXml, type CaldavTestServer, type RawResponse } from './caldav-test-server.js';
import { freePort, stderrTail, stopChild, waitUntilAnswering } from './child-server.js';

const XANDIKOS_BIN = process.env.XANDIKOS_BIN ?? '/usr/bin/xandikos';

/** False when Xandikos is missing: tests pass `{ skip: XANDIKOS_SKIP }` then. */
export const xandikosInstalled = existsSync(XANDIKOS_BIN);
export const XANDIKOS_SKIP: string | false = xandikosInstalled ? false : 'xandikos not installed: apt-get install -y xandikos';

/** Calendars live in the principal's calendar home: `/<user>/calendars/<slug>/`. */
export interface XandikosServer extends CaldavTestServer {
  readonly kind: 'xandikos';
}

interface Instance {
  child: ChildProcess;
  port: number;
}

async function launchInstance(dir: string, user: string): Promise<Instance> {
  if (!/^[A-Za-z0-9@._-]+$/.test(user)) throw new Error(`xandikos harness: unsupported user name ${user}`);
  let lastError: unknown;
  // The free port can be taken between probing and Xandikos binding it: try again.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn(
      XANDIKOS_BIN,
      ['-d', join(dir, user), '--autocreate', '-l', '127.0.0.1', '-p', String(port), '--current-user-principal', `/${user}/`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const log = stderrTail(child);
    try {
      await waitUntilAnswering(`http://127.0.0.1:${port}/health`, child, log, 'xandikos');
      return { child, port };
    } catch (err) {
      lastError = err;
      child.kill('SIGKILL');
    }
  }
  throw lastError;
}

function credentialsOf(req: IncomingMessage, users: Record<string, string>): string | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const user = decoded.slice(0, colon);
  return users[user] !== undefined && users[user] === decoded.slice(colon + 1) ? user : undefined;
}

function firstSegment(path: string): string | undefined {
  const segment = path.split('?')[0]!.split('/')[1];
  if (!segment) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Basic auth and per-user routing in front of the per-user Xandikos processes. */
function authenticatingProxy(users: Record<string, string>, instances: Map<string, Instance>): Server {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const user = credentialsOf(req, users);
      if (!user) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="xandikos"', 'content-type': 'text/plain' }).end('Unauthorized');
        return;
      }
      const owner = firstSegment(req.url ?? '/');
      if (owner !== undefined && users[owner] !== undefined && owner !== user) {
        res.writeHead(403, { 'content-type': 'text/plain' }).end('Forbidden');
        return;
      }
      const target = instances.get(user)!;
      const upstream = httpRequest(
        { host: '127.0.0.1', port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: `127.0.0.1:${target.port}` } },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => {
        if (!res.headersSent) res.writeHead(502).end();
        else res.destroy();
      });
      upstream.end(Buffer.concat(chunks));
    });
  });
}

export async function startXandikos(options: { users: Record<string, string> }): Promise<XandikosServer> {
  if (!xandikosInstalled) throw new Error('xandikos not installed: apt-get install -y xandikos');
  const dir = await mkdtemp(join(tmpdir(), 'almanac-xandikos-'));
  const instances = new Map<string, Instance>();
  // A run that ends without stop() (a failing before hook, a cancelled file) leaves nothing behind.
  const killOnExit = (): void => {
    for (const { child } of instances.values()) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);
  let proxy: Server | undefined;
  try {
    await Promise.all(
      Object.keys(options.users).map(async (user) => {
        instances.set(user, await launchInstance(dir, user));
      }),
    );
    proxy = authenticatingProxy(options.users, instances);
    await new Promise<void>((resolve) => proxy!.listen(0, '127.0.0.1', resolve));
  } catch (err) {
    process.removeListener('exit', killOnExit);
    killOnExit();
    throw err;
  }
  const port = (proxy.address() as AddressInfo).port;
  const base = `http://127.0.0.1:${port}/`;
  const calendarUrl = (user: string, slug: string): string => new URL(`/${user}/calendars/${slug}/`, base).toString();

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

  const unsupported = {
    calendarDescription: 'xandikos 0.2.8 cannot set calendar-description (PROPPATCH answers 409)',
    calendarTimezone: 'xandikos 0.2.8 cannot set calendar-timezone (PROPPATCH answers 409)',
    componentSets: 'xandikos 0.2.8 always offers VEVENT, VTODO, VJOURNAL and VFREEBUSY',
    readOnlyCalendars: 'xandikos 0.2.8 has no access control: current-user-privilege-set is always DAV:all',
  };

  return {
    kind: 'xandikos',
    url: base,
    port,
    users: options.users,
    capabilities: { calendarDescription: unsupported.calendarDescription, calendarTimezone: unsupported.calendarTimezone, componentSets: unsupported.componentSets, readOnlyCalendars: unsupported.readOnlyCalendars, uidConflicts: true },
    homeUrl: (user) => new URL(`/${user}/calendars/`, base).toString(),
    calendarUrl,
    async makeReadOnly() {
      throw new Error(unsupported.readOnlyCalendars);
    },
    request,
    get: (user, url) => request(user, 'GET', url),
    put: (user, url, ics, headers = {}) => request(user, 'PUT', url, ics, { 'content-type': 'text/calendar; charset=utf-8', ...headers }),
    async mkcalendar(user, slug, spec = {}) {
      if (spec.description !== undefined) throw new Error(unsupported.calendarDescription);
      if (spec.timezone !== undefined) throw new Error(unsupported.calendarTimezone);
      if (spec.components !== undefined && !(spec.components.length === 1 && spec.components[0] === 'VEVENT')) throw new Error(unsupported.componentSets);
      const url = calendarUrl(user, slug);
      const name = spec.displayName === undefined ? '' : `<D:displayname>${escapeXml(spec.displayName)}</D:displayname>`;
      const body =
        '<?xml version="1.0" encoding="utf-8"?>' +
        '<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">' +
        `<D:set><D:prop>${name}</D:prop></D:set></C:mkcalendar>`;
      const made = await request(user, 'MKCALENDAR', url, body, { 'content-type': 'application/xml; charset=utf-8' });
      if (made.status !== 201) throw new Error(`MKCALENDAR ${url} answered ${made.status}: ${made.body}`);
      if (spec.color !== undefined) {
        // MKCALENDAR ignores the colour; PROPPATCH keeps it.
        const patch =
          '<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:" xmlns:I="http://apple.com/ns/ical/">' +
          `<D:set><D:prop><I:calendar-color>${escapeXml(spec.color)}</I:calendar-color></D:prop></D:set></D:propertyupdate>`;
        const patched = await request(user, 'PROPPATCH', url, patch, { 'content-type': 'application/xml; charset=utf-8' });
        if (patched.status !== 207 || !/200 OK/.test(patched.body)) throw new Error(`PROPPATCH ${url} answered ${patched.status}: ${patched.body}`);
      }
      return url;
    },
    async stop() {
      process.removeListener('exit', killOnExit);
      proxy!.closeAllConnections();
      await new Promise<void>((resolve) => proxy!.close(() => resolve()));
      await Promise.all([...instances.values()].map(({ child }) => stopChild(child)));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
