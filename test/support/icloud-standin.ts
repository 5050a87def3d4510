/**
 * A local stand-in for caldav.icloud.com, arranged like iCloud: it answers discovery
 * PROPFINDs itself in iCloud's style (default namespace, a bare `/principal/` href,
 * no well-known) and names as calendar home an absolute URL whose collections live
 * on a real CalDAV server (Radicale), to which it forwards every other request
 * unchanged. The home stays on the stand-in's own origin: Almanac sends an Apple ID's
 * password only there or to iCloud's partition hosts, and loopback test servers
 * cannot be named like those (test/providers/apple-discovery.test.ts covers that).
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basicAuth } from './caldav-test-server.js';

export interface IcloudStandin {
  /** What ALMANAC_ICLOUD_CALDAV_URL would be. */
  url: string;
  /** The calendar home discovery finds (on the stand-in's origin). */
  homeUrl: string;
  /** `METHOD path` of every request it received. */
  requests: string[];
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Accepts exactly `appleId`/`appPassword` for discovery; everything else goes to
 * `upstream` (port and the path of the account's home there), which checks the same
 * credentials itself.
 */
export async function startIcloudStandin(options: { appleId: string; appPassword: string; upstream: { port: number; homePath: string } }): Promise<IcloudStandin> {
  const expected = basicAuth(options.appleId, options.appPassword);
  const requests: string[] = [];
  let homeUrl = '';
  const server: Server = createServer(async (req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const body = await readBody(req);
    const discovery = req.method === 'PROPFIND' && (req.url === '/' || req.url === '/principal/');
    if (!discovery) {
      const upstream = httpRequest(
        { host: '127.0.0.1', port: options.upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: `127.0.0.1:${options.upstream.port}` } },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
      upstream.end(body);
      return;
    }
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="iCloud"' }).end();
      return;
    }
    if (req.url === '/' && body.includes('current-user-principal')) {
      res.writeHead(207, { 'content-type': 'text/xml; charset=utf-8' }).end(
        '<?xml version="1.0" encoding="UTF-8"?>\n<multistatus xmlns="DAV:"><response><href>/</href><propstat><prop>' +
          '<current-user-principal><href>/principal/</href></current-user-principal></prop>' +
          '<status>HTTP/1.1 200 OK</status></propstat></response></multistatus>',
      );
      return;
    }
    if (req.url === '/principal/') {
      res.writeHead(207, { 'content-type': 'text/xml; charset=utf-8' }).end(
        '<?xml version="1.0" encoding="UTF-8"?>\n<multistatus xmlns="DAV:"><response><href>/principal/</href><propstat><prop>' +
          `<calendar-home-set xmlns="urn:ietf:params:xml:ns:caldav"><href xmlns="DAV:">${homeUrl}</href></calendar-home-set>` +
          '</prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>',
      );
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  homeUrl = new URL(options.upstream.homePath, url).toString();
  return {
    url,
    homeUrl,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
