/**
 * Structured logs without secrets: request lines carry the path and the names of
 * query parameters, never their values (authorize and provider callbacks carry codes,
 * states and user ids there), and no header, cookie or body is ever serialised.
 */
import type { FastifyServerOptions } from 'fastify';
import type { FastifyRequest } from 'fastify';

export function createLoggerOptions(level: string, stream?: NodeJS.WritableStream): FastifyServerOptions['logger'] {
  return {
    level,
    ...(stream ? { stream } : {}),
    redact: { paths: ['req.headers', 'headers.authorization', 'headers.cookie', '*.password', '*.token', '*.access_token', '*.refresh_token', '*.client_secret'], censor: '[redacted]' },
    serializers: {
      req(request: FastifyRequest) {
        const url = request.url ?? '';
        const q = url.indexOf('?');
        const params = q >= 0 ? [...new URLSearchParams(url.slice(q + 1)).keys()] : [];
        return { id: request.id, method: request.method, path: q >= 0 ? url.slice(0, q) : url, ...(params.length ? { queryParams: params } : {}) };
      },
    },
  };
}
