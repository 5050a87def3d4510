// A real HTTP server on a random local port for the SDK tests: the SDK's fetch,
// headers, bodies and timing are exercised end to end, nothing is mocked.
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AlmanacClient } from '../src/index.js';
import type { AlmanacClientOptions } from '../src/index.js';

export interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
}

export type Handler = (req: Recorded, res: ServerResponse) => void | Promise<void>;

export interface TestServer {
  /** `http://127.0.0.1:<port>/api` */
  baseUrl: string;
  requests: Recorded[];
  close(): Promise<void>;
}

export async function startServer(handler: Handler): Promise<TestServer> {
  const requests: Recorded[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const recorded: Recorded = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      Promise.resolve(handler(recorded, res)).catch((err: unknown) => {
        if (!res.headersSent) json(res, 500, { error: 'test_handler_failed', message: String(err) });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/api`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body === undefined ? '' : JSON.stringify(body));
}

export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A client whose retry waits are recorded instead of slept (the fake clock). */
export function makeClient(
  baseUrl: string,
  overrides: Partial<AlmanacClientOptions> = {},
): { client: AlmanacClient; sleeps: number[] } {
  const sleeps: number[] = [];
  const client = new AlmanacClient({
    baseUrl,
    clientId: 'client-1',
    clientSecret: 's3cret',
    redirectUri: 'https://app.example.com/callback',
    retry: {
      retries: 2,
      baseDelayMs: 100,
      maxDelayMs: 1000,
      random: () => 0.5,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    },
    ...overrides,
  });
  return { client, sleeps };
}

export function bearer(req: Recorded): string | undefined {
  const value = req.headers.authorization;
  return value?.startsWith('Bearer ') ? value.slice(7) : undefined;
}
