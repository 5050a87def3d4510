/**
 * One error handler for the whole server: typed errors become the bodies of API.md,
 * OAuth routes get RFC 6749 bodies, framework errors (bad JSON, wrong content type,
 * oversized body, schema failures) become clear 4xx, and nothing else leaks detail.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isProviderId, type ProviderId } from '../domain/calendar.js';
import { AppError, OAuthError, RateLimitedError } from '../domain/errors.js';
import { providerErrorToHttp } from './map-provider-error.js';
import { ProviderError } from '../providers/types.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Answer errors in RFC 6749 form (`error`, `error_description`). */
    oauthErrors?: boolean;
  }
}

interface Body {
  status: number;
  error: string;
  message: string;
  details?: unknown;
  retryAfter?: number;
}

function frameworkError(err: FastifyError): Body | undefined {
  if (err.validation) {
    const details = err.validation.map((v) => ({ field: (v.instancePath || v.params?.missingProperty || '').toString().replace(/^\//, '') || undefined, message: v.message }));
    return { status: 400, error: 'invalid_request', message: `Invalid request: ${err.message}`, details };
  }
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, error: 'unsupported_media_type', message: 'Unsupported Content-Type: send application/json or application/x-www-form-urlencoded' };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, error: 'payload_too_large', message: 'Request body is too large' };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, error: 'invalid_request', message: 'Content-Length does not match the body' };
  }
  if (err instanceof SyntaxError || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return { status: 400, error: 'invalid_request', message: 'Body is not valid JSON' };
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return { status: err.statusCode, error: 'invalid_request', message: err.message };
  }
  return undefined;
}

function toBody(err: unknown, provider: ProviderId | undefined): Body | undefined {
  if (err instanceof ProviderError) return toBody(providerErrorToHttp(err, provider), provider);
  if (err instanceof RateLimitedError) return { status: 429, error: err.code, message: err.message, retryAfter: err.retryAfterSeconds };
  if (err instanceof AppError) return { status: err.status, error: err.code, message: err.message, details: err.details };
  return frameworkError(err as FastifyError);
}

/** The provider a request names (body or query string), when it is one Almanac knows. */
function requestedProvider(request: FastifyRequest): ProviderId | undefined {
  const fromBody = (request.body as { provider?: unknown } | null | undefined)?.provider;
  const fromQuery = (request.query as { provider?: unknown } | null | undefined)?.provider;
  const named = fromBody ?? fromQuery;
  return isProviderId(named) ? named : undefined;
}

/** Renders an error as a page for browser-facing routes (the connect pages, authorize). */
export type ErrorPageRenderer = (request: FastifyRequest, reply: FastifyReply, e: { status: number; error: string; message: string }) => FastifyReply;

const PAGE_ROUTE = /^\/(connect(\/|$|\?)|api\/oauth\/authorize)/;

export function installErrorHandler(app: FastifyInstance, renderPage?: ErrorPageRenderer): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const oauth = request.routeOptions.config?.oauthErrors === true;
    if (err instanceof OAuthError) {
      if (err.status === 401) reply.header('WWW-Authenticate', 'Basic realm="almanac"');
      return reply.code(err.status).header('Cache-Control', 'no-store').send({ error: err.error, error_description: err.description, message: err.description });
    }
    const body = toBody(err, requestedProvider(request));
    if (!body) {
      request.log.error({ err }, 'unhandled error');
      const internal = { status: 500, error: 'internal_error', message: 'Internal server error' };
      if (renderPage && PAGE_ROUTE.test(request.url)) return renderPage(request, reply, internal);
      return reply.code(500).send({ ...internal, requestId: request.id });
    }
    if (body.status >= 500) request.log.warn({ err }, 'request failed');
    if (body.retryAfter !== undefined) reply.header('Retry-After', String(body.retryAfter));
    // A person in a browser gets a page they can act on, not a JSON body.
    if (renderPage && PAGE_ROUTE.test(request.url)) return renderPage(request, reply, body);
    if (oauth) {
      const code = body.status === 415 || body.status === 413 ? 'invalid_request' : body.error;
      return reply.code(body.status).header('Cache-Control', 'no-store').send({ error: code, error_description: body.message, message: body.message });
    }
    return reply.code(body.status).send({ error: body.error, message: body.message, ...(body.details !== undefined ? { details: body.details } : {}) });
  });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: 'not_found', message: `No route for ${request.method} ${request.url.split('?')[0]}` });
  });
}
