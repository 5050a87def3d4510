/**
 * A programmable CalDAV server on loopback for answers Radicale will not give:
 * duplicated or oddly encoded hrefs, redirects to other origins, huge or broken
 * bodies. Each test supplies the answers; every request is recorded (with its
 * Authorization header, to check where credentials went).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  /** The Host header: which name the client used. */
  host: string | undefined;
  body: string;
}

export type DavHandler = (req: SeenRequest, res: ServerResponse, raw: IncomingMessage) => void;

export interface FakeDav {
  /** `http://127.0.0.1:PORT/` */
  url: string;
  origin: string;
  seen: SeenRequest[];
  handler: DavHandler;
  close(): Promise<void>;
}

export async function startFakeDav(handler: DavHandler): Promise<FakeDav> {
  const seen: SeenRequest[] = [];
  const fake = { seen, handler } as FakeDav;
  const server = createServer((raw, res) => {
    const chunks: Buffer[] = [];
    raw.on('data', (c: Buffer) => chunks.push(c));
    raw.on('end', () => {
      const req: SeenRequest = { method: raw.method ?? 'GET', path: raw.url ?? '/', authorization: raw.headers.authorization, host: raw.headers.host, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(req);
      fake.handler(req, res, raw);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  fake.origin = `http://127.0.0.1:${port}`;
  fake.url = `${fake.origin}/`;
  fake.close = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return fake;
}

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** `<d:response>` entries: href and the inner XML of one 200 propstat. */
export function multistatus(entries: Array<{ href: string; props: string }>): string {
  const body = entries
    .map((e) => `<d:response><d:href>${e.href}</d:href><d:propstat><d:prop>${e.props}</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`)
    .join('');
  return `<?xml version="1.0" encoding="utf-8"?><d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">${body}</d:multistatus>`;
}

export const props = {
  principal: (href: string) => `<d:current-user-principal><d:href>${href}</d:href></d:current-user-principal>`,
  home: (href: string) => `<c:calendar-home-set><d:href>${href}</d:href></c:calendar-home-set>`,
  collection: '<d:resourcetype><d:collection/></d:resourcetype>',
  calendar: (name: string) =>
    `<d:resourcetype><d:collection/><c:calendar/></d:resourcetype><d:displayname>${name}</d:displayname>` +
    '<c:supported-calendar-component-set><c:comp name="VEVENT"/></c:supported-calendar-component-set>',
};

export function send207(res: ServerResponse, xml: string): void {
  res.writeHead(207, { 'content-type': 'application/xml; charset=utf-8' }).end(xml);
}

/** An empty calendar-query answer. */
export const EMPTY_MULTISTATUS = '<?xml version="1.0" encoding="utf-8"?><d:multistatus xmlns:d="DAV:"/>';
