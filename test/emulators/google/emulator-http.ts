/** Request/response plumbing and Google's two error shapes (Calendar API and OAuth). */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A Calendar API error as Google sends it: `{"error":{"errors":[…],"code","message"}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly domain = 'global',
    readonly extra: { location?: string; locationType?: string; retryAfter?: string } = {},
  ) {
    super(message);
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  410: 'GONE',
  412: 'FAILED_PRECONDITION',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

export function apiErrorBody(error: ApiError): unknown {
  const item: Record<string, string> = { domain: error.domain, reason: error.reason, message: error.message };
  if (error.extra.locationType) item.locationType = error.extra.locationType;
  if (error.extra.location) item.location = error.extra.location;
  return {
    error: {
      errors: [item],
      code: error.status,
      message: error.message,
      ...(STATUS_TEXT[error.status] ? { status: STATUS_TEXT[error.status] } : {}),
    },
  };
}

/** The common Calendar API errors, worded as Google words them. */
export const apiErrors = {
  authError: () =>
    new ApiError(401, 'authError', 'Invalid Credentials', 'global', { locationType: 'header', location: 'Authorization' }),
  insufficientScope: () => new ApiError(403, 'insufficientPermissions', 'Request had insufficient authentication scopes.'),
  writerAccess: () => new ApiError(403, 'requiredAccessLevel', 'You need to have writer access to this calendar.'),
  notFound: () => new ApiError(404, 'notFound', 'Not Found'),
  deleted: () => new ApiError(410, 'deleted', 'Resource has been deleted'),
  duplicate: () => new ApiError(409, 'duplicate', 'The requested identifier already exists.'),
  conditionNotMet: () =>
    new ApiError(412, 'conditionNotMet', 'Precondition Failed', 'global', { locationType: 'header', location: 'If-Match' }),
  invalid: (message: string) => new ApiError(400, 'invalid', message),
  badRequest: (message: string) => new ApiError(400, 'badRequest', message),
  timeRangeEmpty: () => new ApiError(400, 'timeRangeEmpty', 'The specified time range is empty.'),
  fullSyncRequired: () => new ApiError(410, 'fullSyncRequired', 'Sync token is no longer valid, a full sync is required.'),
};

/** An OAuth endpoint error: RFC 6749 `{ error, error_description }`. */
export class OAuthEndpointError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
  }
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = await readBody(req);
  if (text.trim() === '') return {};
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw apiErrors.badRequest('Parse Error');
}

/** Form bodies (what Google's token endpoint takes), with JSON tolerated as Google does. */
export async function readFormBody(req: IncomingMessage): Promise<Record<string, string>> {
  const text = await readBody(req);
  if ((req.headers['content-type'] ?? '').includes('application/json')) {
    try {
      return Object.fromEntries(Object.entries(JSON.parse(text) as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
    } catch {
      return {};
    }
  }
  return Object.fromEntries(new URLSearchParams(text));
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...(text ? { 'content-type': 'application/json; charset=UTF-8' } : {}),
    ...headers,
  });
  res.end(text);
}

export function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
  res.end(html);
}

export function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { location });
  res.end();
}

export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  const m = header ? /^Bearer\s+(.+)$/i.exec(header) : null;
  return m?.[1]?.trim();
}
