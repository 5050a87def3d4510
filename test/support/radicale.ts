/**
 * Starts Debian's Radicale on a free 127.0.0.1 port with a throw-away storage folder
 * and plain-text htpasswd users. Raw HTTP helpers here deliberately bypass the
 * adapters, so tests can check what really landed on the server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const RADICALE_BIN = process.env.RADICALE_BIN ?? '/usr/bin/radicale';

/** False when Radicale is missing: tests pass `{ skip: RADICALE_SKIP }` then. */
export const radicaleInstalled = existsSync(RADICALE_BIN);
export const RADICALE_SKIP: string | false = radicaleInstalled ? false : 'radicale not installed: apt-get install -y radicale';

export interface RawResponse {
  status: number;
  body: string;
  etag: string | null;
}

export interface CalendarSpec {
  displayName?: string;
  color?: string;
  description?: string;
  components?: string[];
  /** A VCALENDAR with one VTIMEZONE, as calendar-timezone wants it. */
  timezone?: string;
}

export interface RadicaleServer {
  /** `http://127.0.0.1:PORT/` */
  url: string;
  port: number;
  users: Record<string, string>;
  /** MKCALENDAR `/<user>/<slug>/`; resolves to the collection's absolute URL. */
  mkcalendar(user: string, slug: string, spec?: CalendarSpec): Promise<string>;
  get(user: string, url: string): Promise<RawResponse>;
  put(user: string, url: string, ics: string, headers?: Record<string, string>): Promise<RawResponse>;
  request(user: string, method: string, url: string, body?: string, headers?: Record<string, string>): Promise<RawResponse>;
  /**
   * Makes `/<user>/<slug>/` read-only for its owner from the next request on (Radicale
   * reads its rights file on every request); the collection must exist already.
   */
  setReadOnly(user: string, slug: string): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function auth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

async function waitUntilAnswering(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`radicale exited with ${child.exitCode}: ${log()}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await response.body?.cancel();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`radicale did not answer within 15 s: ${log()}`);
}

/**
 * Radicale's `owner_only` rights written as a rights file (users read the root, own
 * their principal and the collections in it), with the read-only collections first:
 * the first matching section wins.
 */
function rightsFile(readOnly: readonly { user: string; slug: string }[]): string {
  const section = (name: string, user: string, collection: string, permissions: string): string =>
    `[${name}]\nuser: ${user}\ncollection: ${collection}\npermissions: ${permissions}\n`;
  // Test names are plain words; escape regex metacharacters anyway (braces are Radicale's placeholders).
  const literal = (text: string): string => text.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
  return [
    ...readOnly.map(({ user, slug }, i) => section(`read-only-${i}`, literal(user), `${literal(user)}/${literal(slug)}`, 'rR')),
    section('root', '.+', '', 'R'),
    section('principal', '.+', '{user}', 'RW'),
    section('calendars', '.+', '{user}/[^/]+', 'rw'),
  ].join('\n');
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
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const log = (): string => stderr;
  try {
    await waitUntilAnswering(`http://127.0.0.1:${port}/`, child, log);
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

  async function request(user: string, method: string, url: string, body?: string, headers: Record<string, string> = {}): Promise<RawResponse> {
    const password = options.users[user];
    if (password === undefined) throw new Error(`unknown test user ${user}`);
    const response = await fetch(new URL(url, base), {
      method,
      headers: { authorization: auth(user, password), ...headers },
      ...(body === undefined ? {} : { body }),
    });
    return { status: response.status, body: await response.text(), etag: response.headers.get('etag') };
  }

  const readOnly: { user: string; slug: string }[] = [];

  return {
    url: base,
    port,
    users: options.users,
    request,
    async setReadOnly(user, slug) {
      readOnly.push({ user, slug });
      await writeFile(join(dir, 'rights'), rightsFile(readOnly));
    },
    get: (user, url) => request(user, 'GET', url),
    put: (user, url, ics, headers = {}) => request(user, 'PUT', url, ics, { 'content-type': 'text/calendar; charset=utf-8', ...headers }),
    async mkcalendar(user, slug, spec = {}) {
      // Radicale creates the principal collection on the first authenticated request.
      await request(user, 'PROPFIND', `/${user}/`, undefined, { depth: '0' });
      const props: string[] = [];
      if (spec.displayName !== undefined) props.push(`<D:displayname>${escapeXml(spec.displayName)}</D:displayname>`);
      if (spec.color !== undefined) props.push(`<I:calendar-color>${escapeXml(spec.color)}</I:calendar-color>`);
      if (spec.description !== undefined) props.push(`<C:calendar-description>${escapeXml(spec.description)}</C:calendar-description>`);
      if (spec.timezone !== undefined) props.push(`<C:calendar-timezone>${escapeXml(spec.timezone)}</C:calendar-timezone>`);
      const components = spec.components ?? ['VEVENT'];
      props.push(
        `<C:supported-calendar-component-set>${components.map((c) => `<C:comp name="${c}"/>`).join('')}</C:supported-calendar-component-set>`,
      );
      const body =
        '<?xml version="1.0" encoding="utf-8"?>' +
        '<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:I="http://apple.com/ns/ical/">' +
        `<D:set><D:prop>${props.join('')}</D:prop></D:set></C:mkcalendar>`;
      const path = `/${user}/${slug}/`;
      const response = await request(user, 'MKCALENDAR', path, body, { 'content-type': 'application/xml; charset=utf-8' });
      if (response.status !== 201) throw new Error(`MKCALENDAR ${path} answered ${response.status}: ${response.body}`);
      return new URL(path, base).toString();
    },
    async stop() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
