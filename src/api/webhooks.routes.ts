/**
 * POST /api/subscribe-webhook, POST /api/unsubscribe-webhook (API.md, Webhooks) and the
 * Almanac extra GET /api/webhook-subscriptions; GET /.well-known/webhook-keys publishes
 * the Ed25519 key that signs `v1a` signatures. Any valid token may subscribe: a
 * free-busy token's subscription receives busy blocks only, as its reads do.
 */
import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import { isProviderId, PROVIDER_IDS, type ProviderId } from '../domain/calendar.js';
import { ValidationError } from '../domain/errors.js';
import { requireAuth, type Access } from '../http/bearer-guard.js';
import type { WebhookSubscriptions } from '../application/webhook-subscriptions.js';
import type { SubscriptionRecord } from '../storage/repositories/webhooks.repo.js';

export interface WebhooksRouteDeps {
  guard: (a: Access) => preHandlerAsyncHookHandler;
  subscriptions: WebhookSubscriptions;
  publicUrl: string;
  /** The published `v1a` verification keys. */
  keys: () => { kid: string; alg: string; key: string }[];
}

const CHANNEL_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

interface Problem {
  field: string;
  message: string;
}

function body(raw: unknown): Record<string, unknown> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ValidationError('The body must be a JSON object');
  return raw as Record<string, unknown>;
}

function fail(problems: Problem[]): never {
  throw new ValidationError(problems[0]!.message, problems);
}

function readProvider(b: Record<string, unknown>, problems: Problem[]): ProviderId | undefined {
  if (b.provider === undefined || b.provider === null || b.provider === '') problems.push({ field: 'provider', message: 'provider is required' });
  else if (!isProviderId(b.provider)) problems.push({ field: 'provider', message: `provider must be one of ${PROVIDER_IDS.join(', ')}` });
  else return b.provider;
  return undefined;
}

function readChannelId(b: Record<string, unknown>, problems: Problem[], required: boolean): string | undefined {
  const value = b.channelId;
  if (value === undefined || value === null || value === '') {
    if (required) problems.push({ field: 'channelId', message: 'channelId is required' });
    return undefined;
  }
  if (typeof value !== 'string' || !CHANNEL_ID.test(value)) {
    problems.push({ field: 'channelId', message: 'channelId must be 1 to 128 letters, digits or . _ : @ -' });
    return undefined;
  }
  return value;
}

function readExpiration(value: unknown, problems: Problem[]): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : typeof value === 'number' ? value : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) {
    problems.push({ field: 'expiration', message: 'expiration must be a time in epoch milliseconds' });
    return undefined;
  }
  return n;
}

function subscriptionView(s: SubscriptionRecord, webhookUrl: string | null) {
  return {
    channelId: s.channelId,
    provider: s.provider,
    calendarId: s.calendarId,
    ...(s.expiresAt !== null ? { expiration: s.expiresAt } : {}),
    webhookUrl,
    scope: s.scope,
    createdAt: new Date(s.createdAt).toISOString(),
  };
}

const errorFree = { validatorCompiler: () => () => true } as const;

const subscriptionSchema = {
  type: 'object',
  properties: {
    channelId: { type: 'string' },
    resourceId: { type: 'string' },
    expiration: { type: 'integer', description: 'Epoch milliseconds after which deliveries stop' },
    webhookUrl: { type: 'string' },
  },
} as const;

export function registerWebhooksRoutes(app: FastifyInstance, deps: WebhooksRouteDeps): void {
  app.post(
    '/api/subscribe-webhook',
    {
      preHandler: deps.guard('any'),
      ...errorFree,
      schema: {
        tags: ['Webhooks'],
        summary: 'Subscribe to changes of one calendar',
        description:
          'Deliveries go to the client’s webhook URL, signed per Standard Webhooks. Subscribing again to the same calendar answers the existing subscription. 400 when the client has no webhook URL; 404 for a calendar the user does not have.',
        security: [{ bearer: [] }],
        body: {
          type: 'object',
          required: ['provider', 'calendarId'],
          properties: {
            provider: { type: 'string', enum: [...PROVIDER_IDS] },
            calendarId: { type: 'string' },
            channelId: { type: 'string', description: 'Your id for the subscription; generated when absent' },
            expiration: { type: 'integer', description: 'Epoch milliseconds; no deliveries after it' },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              success: { type: 'boolean' },
              provider: { type: 'string' },
              subscription: subscriptionSchema,
              serverWebhookUrl: { type: 'string', description: 'Where Almanac receives provider notifications' },
              channelId: { type: 'string' },
            },
          },
        },
      },
    },
    async (request) => {
      const auth = requireAuth(request);
      const b = body(request.body);
      const problems: Problem[] = [];
      const provider = readProvider(b, problems);
      let calendarId: string | undefined;
      if (typeof b.calendarId !== 'string' || b.calendarId === '') problems.push({ field: 'calendarId', message: 'calendarId is required (a string)' });
      else if (b.calendarId.length > 2048) problems.push({ field: 'calendarId', message: 'calendarId is longer than 2048 characters' });
      else calendarId = b.calendarId;
      const channelId = readChannelId(b, problems, false);
      const expiration = readExpiration(b.expiration, problems);
      if (problems.length > 0) fail(problems);
      const { subscription, webhookUrl } = await deps.subscriptions.subscribe(
        {
          clientId: auth.clientId,
          userId: auth.userId,
          scope: auth.scope,
          provider: provider!,
          calendarId: calendarId!,
          ...(channelId !== undefined ? { channelId } : {}),
          ...(expiration !== undefined ? { expiration } : {}),
        },
        request.log,
      );
      return {
        success: true,
        provider: subscription.provider,
        subscription: {
          channelId: subscription.channelId,
          ...(subscription.expiresAt !== null ? { expiration: subscription.expiresAt } : {}),
          webhookUrl,
        },
        serverWebhookUrl: `${deps.publicUrl}/webhooks/${subscription.provider}`,
        channelId: subscription.channelId,
      };
    },
  );

  app.post(
    '/api/unsubscribe-webhook',
    {
      preHandler: deps.guard('any'),
      ...errorFree,
      schema: {
        tags: ['Webhooks'],
        summary: 'End a webhook subscription',
        security: [{ bearer: [] }],
        body: {
          type: 'object',
          required: ['provider', 'channelId'],
          properties: { provider: { type: 'string', enum: [...PROVIDER_IDS] }, channelId: { type: 'string' }, resourceId: { type: 'string', description: 'Accepted and ignored' } },
        },
        response: { 200: { type: 'object', properties: { success: { type: 'boolean' }, message: { type: 'string' } } } },
      },
    },
    async (request) => {
      const auth = requireAuth(request);
      const b = body(request.body);
      const problems: Problem[] = [];
      const provider = readProvider(b, problems);
      const channelId = readChannelId(b, problems, true);
      if (b.resourceId !== undefined && b.resourceId !== null && typeof b.resourceId !== 'string') problems.push({ field: 'resourceId', message: 'resourceId must be a string' });
      if (problems.length > 0) fail(problems);
      await deps.subscriptions.unsubscribe(auth.userId, provider!, channelId!);
      return { success: true, message: 'Webhook subscription removed' };
    },
  );

  app.get(
    '/api/webhook-subscriptions',
    {
      preHandler: deps.guard('any'),
      schema: {
        tags: ['Webhooks'],
        summary: 'The user’s webhook subscriptions (Almanac extra)',
        security: [{ bearer: [] }],
        response: {
          200: {
            type: 'object',
            properties: {
              subscriptions: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    ...subscriptionSchema.properties,
                    provider: { type: 'string' },
                    calendarId: { type: 'string' },
                    webhookUrl: { type: ['string', 'null'] },
                    scope: { type: 'string' },
                    createdAt: { type: 'string', format: 'date-time' },
                  },
                },
              },
            },
          },
        },
      },
    },
    async (request) => {
      const auth = requireAuth(request);
      const { subscriptions, webhookUrl } = await deps.subscriptions.list(auth.clientId, auth.userId);
      return { subscriptions: subscriptions.map((s) => subscriptionView(s, webhookUrl)) };
    },
  );

  app.get(
    '/.well-known/webhook-keys',
    {
      schema: {
        tags: ['Webhooks'],
        summary: 'Public keys of `v1a` (Ed25519) webhook signatures',
        response: {
          200: {
            type: 'object',
            properties: {
              keys: { type: 'array', items: { type: 'object', properties: { kid: { type: 'string' }, alg: { type: 'string' }, key: { type: 'string', description: '`whpk_` + base64 of the raw 32-byte public key' } } } },
            },
          },
        },
      },
    },
    async (_request, reply) => {
      reply.header('Cache-Control', 'public, max-age=3600');
      return { keys: deps.keys() };
    },
  );
}
