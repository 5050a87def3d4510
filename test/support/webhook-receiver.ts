/** A webhook receiver on loopback: records every request and answers as the test says. */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
  /** The status the receiver answered. */
  status: number;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Answer only once this settles. */
  until?: Promise<void>;
}

export interface WebhookReceiver {
  url: string;
  requests: ReceivedRequest[];
  /** Decides each answer (`index`: how many requests arrived before this one); default 204. */
  respond: (req: { headers: IncomingHttpHeaders; body: string }, index: number) => Answer;
  /** Requests answered 2xx. */
  accepted(): ReceivedRequest[];
  waitFor(predicate: (r: ReceivedRequest[]) => boolean, timeoutMs?: number, what?: string): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<WebhookReceiver> {
  const receiver: WebhookReceiver = {
    url: '',
    requests: [],
    respond: () => ({ status: 204 }),
    accepted: () => receiver.requests.filter((r) => r.status >= 200 && r.status < 300),
    async waitFor(predicate, timeoutMs = 20_000, what = 'webhook requests') {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(receiver.requests)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; received ${receiver.requests.length}: ${receiver.requests.map((r) => `${r.status} ${r.headers['webhook-id']}`).join(', ')}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  let arrived = 0;
  const server: Server = createServer((req, res) => {
    const index = arrived++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const answer = receiver.respond({ headers: req.headers, body }, index);
      const send = () => {
        receiver.requests.push({ headers: req.headers, body, at: Date.now(), status: answer.status });
        res.writeHead(answer.status, answer.headers ?? {});
        res.end();
      };
      if (answer.until) void answer.until.then(send);
      else if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return receiver;
}
