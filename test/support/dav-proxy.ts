/**
 * A loopback proxy in front of a real CalDAV server that can answer or rewrite chosen
 * requests, to imitate servers that behave differently (refused or ignored filters)
 * while everything else is the real server's answer.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What to do with a request: answer it here, forward a changed body, or (undefined) forward it as is. */
export type ProxyDecision = { answer: { status: number; body: string; headers?: Record<string, string> } } | { forwardBody: string } | undefined;

export interface DavProxy {
  url: string;
  close(): Promise<void>;
}

export async function startDavProxy(target: { port: number }, decide: (req: ProxiedRequest) => ProxyDecision): Promise<DavProxy> {
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const incoming: ProxiedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
    const decision = decide(incoming);
    if (decision && 'answer' in decision) {
      res.writeHead(decision.answer.status, { 'content-type': 'application/xml; charset=utf-8', ...decision.answer.headers }).end(decision.answer.body);
      return;
    }
    const body = decision && 'forwardBody' in decision ? decision.forwardBody : incoming.body;
    const headers = { ...req.headers, host: `127.0.0.1:${target.port}`, 'content-length': String(Buffer.byteLength(body)) };
    const upstream = httpRequest({ host: '127.0.0.1', port: target.port, method: req.method, path: req.url, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
    upstream.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A counting wrapper around fetch: each request as `METHOD kind`, kind read from a
 * REPORT body (multigets with their number of hrefs) or the PROPFIND depth.
 */
export function countingFetch(inner: typeof fetch): { fetch: typeof fetch; requests: string[] } {
  const requests: string[] = [];
  const wrapped: typeof fetch = async (input, init) => {
    const method = (init?.method ?? 'GET').toUpperCase();
    const body = typeof init?.body === 'string' ? init.body : '';
    let kind = '';
    if (method === 'REPORT') {
      if (body.includes('calendar-multiget')) kind = ` multiget ${body.split('<d:href>').length - 1}`;
      else if (body.includes('time-range')) kind = ' time-range';
      else if (body.includes('prop-filter name="RRULE"')) kind = ' RRULE';
      else if (body.includes('prop-filter name="RDATE"')) kind = ' RDATE';
      else kind = ' other';
    } else if (method === 'PROPFIND') {
      kind = ` ${new Headers(init?.headers).get('depth') ?? 'infinity'}`;
    }
    requests.push(`${method}${kind}`);
    return inner(input, init);
  };
  return { fetch: wrapped, requests };
}
