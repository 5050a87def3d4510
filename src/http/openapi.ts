/**
 * The OpenAPI document is generated from the routes' own schemas: what validates a
 * request is what the docs describe. Served at /api/openapi.json, readable at /api/docs.
 *
 * Error answers are documented here, in one table, rather than in each route's
 * `response` schema: Fastify serialises replies through those schemas, and an error
 * body must reach the client exactly as the error handler built it.
 */
import type { FastifyInstance } from 'fastify';
import swagger, { type SwaggerOptions } from '@fastify/swagger';
import type { OpenAPIV3_1 } from 'openapi-types';

type Status = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 502 | 503;

/** Which error statuses each documented operation can answer (500 is added to all). */
export const DOCUMENTED_ERRORS: Readonly<Record<string, readonly Status[]>> = {
  'GET /api/oauth/authorize': [400, 401, 429],
  'POST /api/oauth/par': [400, 401, 413, 415, 429],
  'POST /api/oauth/token': [400, 401, 413, 415, 429],
  'POST /api/oauth/revoke': [400, 413, 415, 429],
  'GET /api/oauth/connection-status': [401, 429],
  'POST /api/oauth/disconnect': [400, 401, 429],
  'GET /api/connection-status': [401, 429],
  'POST /api/disconnect': [400, 401, 429],
  'GET /api/calendars': [401, 403, 429, 502],
  'GET /api/events': [400, 401, 429, 502],
  'POST /api/event': [400, 401, 403, 404, 413, 415, 429, 502],
  'PUT /api/event': [400, 401, 403, 404, 409, 413, 415, 429, 502],
  'DELETE /api/event': [400, 401, 403, 404, 409, 429, 502],
  'POST /api/subscribe-webhook': [400, 401, 404, 409, 413, 415, 429, 502],
  'POST /api/unsubscribe-webhook': [400, 401, 404, 413, 415, 429],
  'GET /api/webhook-subscriptions': [401, 429],
  'GET /.well-known/webhook-keys': [],
  'GET /api/health': [],
  'GET /api/health/ready': [503],
  'GET /metrics': [401],
};

/** Answers that are not errors and not in a route's own schema. */
const OTHER_RESPONSES: Readonly<Record<string, Record<string, unknown>>> = {
  'GET /api/oauth/authorize': {
    302: { description: 'To the connect pages, with the request kept in the signed oauth_req cookie; or back to redirect_uri with `error=` once the client and redirect URI are known good' },
  },
};

const WHY: Record<Status | 500, string> = {
  400: 'Invalid request: a missing, malformed or contradictory parameter (see `message` and `details`). Browser-facing routes (authorize) answer with an HTML page unless the request accepts only JSON',
  401: 'Missing, invalid, expired or revoked credentials (or a write under a read-only scope)',
  403: 'The scope or the calendar does not allow this (free-busy calendar list, read-only calendar)',
  404: 'Unknown calendar or event',
  409: 'The event changed since it was read (If-Match) or conflicts with the provider’s copy',
  413: 'Request body too large',
  415: 'Unsupported Content-Type: send application/json or application/x-www-form-urlencoded',
  429: 'Rate limited: retry after `Retry-After` seconds (see the RateLimit-* headers)',
  500: 'Unexpected server error; `requestId` identifies it in the server log',
  502: 'A calendar provider failed (unreachable, errored, or refused the request)',
  503: 'Not ready: the database is unreachable or the server is shutting down',
};

const errorBody: OpenAPIV3_1.SchemaObject = {
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string', description: 'Short machine-readable code or phrase' },
    message: { type: 'string', description: 'Human-readable sentence, safe to show' },
    details: { description: 'Validation problems, one per field', type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } } },
    requestId: { type: 'string', description: 'On 500 answers: the X-Request-Id to look for in the log' },
  },
};

const oauthErrorBody: OpenAPIV3_1.SchemaObject = {
  type: 'object',
  required: ['error', 'error_description'],
  properties: {
    error: { type: 'string', enum: ['invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'unsupported_response_type', 'invalid_scope', 'server_error'] },
    error_description: { type: 'string' },
    message: { type: 'string', description: 'The same text as error_description (what the official SDKs read)' },
  },
};

const retryHeaders = {
  'Retry-After': { schema: { type: 'integer' }, description: 'Seconds to wait before retrying' },
  'RateLimit-Limit': { schema: { type: 'integer' } },
  'RateLimit-Remaining': { schema: { type: 'integer' } },
  'RateLimit-Reset': { schema: { type: 'integer' }, description: 'Seconds until the window resets' },
};

/** OAuth endpoints answer RFC 6749 bodies; everything else the API's own. */
const OAUTH_BODIES = new Set(['POST /api/oauth/par', 'POST /api/oauth/token', 'POST /api/oauth/revoke']);

function errorResponses(key: string): Record<string, unknown> {
  const statuses = [...(DOCUMENTED_ERRORS[key] ?? []), 500 as const];
  const ref = { $ref: OAUTH_BODIES.has(key) ? '#/components/schemas/OAuthError' : '#/components/schemas/Error' };
  return Object.fromEntries(
    statuses.map((status) => {
      const body = status === 500 ? { $ref: '#/components/schemas/Error' } : ref;
      return [String(status), { description: WHY[status], content: { 'application/json': { schema: body } }, ...(status === 429 ? { headers: retryHeaders } : {}) }];
    }),
  );
}

export async function registerOpenApi(app: FastifyInstance, publicUrl: string): Promise<void> {
  const options: SwaggerOptions = {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Almanac API',
        version: '0.1.0',
        description:
          'Unified calendar API over Google, Microsoft, iCloud and CalDAV, wire-compatible with Mobiscroll Connect. Every response carries `X-Request-Id`; rate-limited routes send `RateLimit-*` headers.',
      },
      servers: [{ url: publicUrl }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          metricsToken: { type: 'http', scheme: 'bearer', description: 'The value of ALMANAC_METRICS_TOKEN' },
        },
        schemas: { Error: errorBody, OAuthError: oauthErrorBody },
      },
    },
    hideUntagged: true,
    transform({ schema, url, route }) {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      const key = `${methods[0]} ${url}`;
      if (!schema || (schema as { hide?: boolean }).hide) return { schema, url };
      // A route's own response schema for a status (e.g. readiness' 503 report) wins over the generic one.
      const response = { ...errorResponses(key), ...OTHER_RESPONSES[key], ...((schema as { response?: Record<string, unknown> }).response ?? {}) };
      return { schema: { ...schema, response }, url };
    },
  };
  await app.register(swagger, options);
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
