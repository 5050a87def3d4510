/**
 * A transparent HTTP proxy in front of a test server that records every request it
 * forwards (method and path), so tests can assert how much provider traffic a
 * behaviour costs. `refuse` can answer some requests itself with an error status, to
 * play a server that lacks a feature.
 */
import { createServer, request as httpRequest } from 'node:http';

export interface CountingProxy {
  /** `http://127.0.0.1:PORT/` */
  url: string;
  /** `authScheme`: the first word of the request's Authorization header (`Basic`, `Digest`), if any. */
  requests: { method: string; path: string; authScheme?: string }[];
  /** Returns a status to answer with instead of forwarding, or undefined to forward. */
  refuse?: (method: string, body: string) => number | undefined;
  reset(): void;
  close(): Promise<void>;
}

export async function startCountingProxy(targetPort: number): Promise<CountingProxy> {
  const requests: CountingProxy['requests'] = [];
  const proxy: CountingProxy = {
    url: '',
    requests,
    reset: () => void requests.splice(0),
    close: async () => undefined,
  };
  const server = createServer(async (req, res) => {
    const authScheme = req.headers.authorization?.split(' ')[0];
    requests.push({ method: req.method ?? '', path: req.url ?? '', ...(authScheme ? { authScheme } : {}) });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const refused = proxy.refuse?.(req.method ?? '', body.toString('utf8'));
    if (refused !== undefined) {
      res.writeHead(refused, { 'content-type': 'text/plain' }).end('refused by the test proxy');
      return;
    }
    const upstream = httpRequest(
      { host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: { ...req.headers, host: `127.0.0.1:${targetPort}` } },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    upstream.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  proxy.url = `http://127.0.0.1:${port}/`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}
