import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Keep a caller's correlation id when it is sane; otherwise mint one. */
export function requestIdFrom(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  if (typeof given === 'string' && /^[A-Za-z0-9._:-]{1,64}$/.test(given)) return given;
  return randomUUID();
}
