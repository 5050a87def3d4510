/**
 * GET /api/oauth/connection-status and POST /api/oauth/disconnect (API.md), each also
 * served at its older path (`/api/connection-status`, `/api/disconnect`), where the
 * Python and PHP SDKs retry. Each path pair shares one route definition, guard and
 * handler, so the two can never answer differently. Both see only the user's accounts,
 * never connections still pending in a connect session.
 */
import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { hasControlCharacters } from '../domain/account-identity.js';
import { PROVIDER_IDS, isProviderId, type ProviderId } from '../domain/calendar.js';
import { ValidationError } from '../domain/errors.js';
import { requireAuth, type Access } from '../http/bearer-guard.js';
import { ParamError, readParams } from '../http/params.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { AccountRecord, AccountsRepository } from '../storage/repositories/accounts.repo.js';
import type { AccountDisconnector } from '../connect/account-disconnector.js';

const accountSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    display: { type: 'string' },
    grantedScopes: { type: 'array', items: { type: 'string' } },
    calendarPermissionGranted: { type: 'boolean' },
    syncState: { type: 'string' },
  },
} as const;

export function toConnectionAccount(a: AccountRecord) {
  return {
    id: a.accountId,
    ...(a.display ? { display: a.display } : {}),
    grantedScopes: a.grantedScopes,
    calendarPermissionGranted: a.calendarPermissionGranted,
    syncState: a.syncState,
  };
}

export function groupConnections(accounts: AccountRecord[]): Record<ProviderId, ReturnType<typeof toConnectionAccount>[]> {
  const connections = Object.fromEntries(PROVIDER_IDS.map((p) => [p, [] as ReturnType<typeof toConnectionAccount>[]])) as Record<ProviderId, ReturnType<typeof toConnectionAccount>[]>;
  for (const a of accounts) connections[a.provider].push(toConnectionAccount(a));
  return connections;
}

/** The documented path first; the older alias is the same route under another name. */
const CONNECTION_STATUS_PATHS = ['/api/oauth/connection-status', '/api/connection-status'] as const;
const DISCONNECT_PATHS = ['/api/oauth/disconnect', '/api/disconnect'] as const;

function aliasNote(path: string, canonical: string): { description?: string } {
  return path === canonical ? {} : { description: `The same route as ${canonical}, kept at this path for clients that call it here.` };
}

export function registerConnectionRoutes(
  app: FastifyInstance,
  deps: { guard: (access: Access) => preHandlerAsyncHookHandler; accounts: AccountsRepository; registry: ProviderRegistry; disconnector: AccountDisconnector; maxAccountsPerUser: number },
): void {
  const connectionStatus = {
    preHandler: deps.guard('any'),
    schema: {
      tags: ['OAuth'],
      summary: 'Connected provider accounts of the token’s user',
      security: [{ bearer: [] }],
      response: {
        200: {
          type: 'object',
          properties: {
            connections: { type: 'object', properties: Object.fromEntries(PROVIDER_IDS.map((p) => [p, { type: 'array', items: accountSchema }])) },
            limitReached: { type: 'boolean' },
          },
        },
      },
    },
    handler: async (request: FastifyRequest) => {
      const auth = requireAuth(request);
      const accounts = await deps.accounts.listForUser(auth.userId);
      // Judged against this token's scope: a grant that served `read` may not serve `read-write` (a scope upgrade needs a reconnect).
      const judged = accounts.map((a) => ({ ...a, calendarPermissionGranted: deps.registry.grantCovers(a.provider, a.grantedScopes, auth.scope) ?? a.calendarPermissionGranted }));
      return { connections: groupConnections(judged), limitReached: accounts.length >= deps.maxAccountsPerUser };
    },
  };

  const disconnect = {
    // Removing accounts changes the user's data: a free-busy or read token must not.
    preHandler: deps.guard('write'),
    schema: {
      tags: ['OAuth'],
      summary: 'Remove one connected account, or every account of a provider (read-write scope)',
      security: [{ bearer: [] }],
      querystring: { type: 'object', properties: { provider: { type: 'string', enum: [...PROVIDER_IDS] }, account: { type: 'string' } } },
      response: { 200: { type: 'object', properties: { success: { type: 'boolean' }, message: { type: 'string' } } } },
    },
    validatorCompiler: () => () => true,
    handler: async (request: FastifyRequest) => {
      const auth = requireAuth(request);
      let p: { provider?: string; account?: string };
      try {
        // The SDKs send these in the query; accept a JSON body too, the query winning.
        const body = typeof request.body === 'object' && request.body !== null ? (request.body as Record<string, unknown>) : {};
        p = { ...readParams(body, ['provider', 'account'] as const, { maxLength: 512 }), ...readParams(request.query as Record<string, unknown>, ['provider', 'account'] as const, { maxLength: 512 }) };
      } catch (err) {
        if (err instanceof ParamError) throw new ValidationError(err.message);
        throw err;
      }
      if (!p.provider) throw new ValidationError('Missing provider');
      if (!isProviderId(p.provider)) throw new ValidationError(`Unknown provider "${p.provider}": use google, microsoft, apple or caldav`);
      if (p.account !== undefined && hasControlCharacters(p.account)) throw new ValidationError('account must not contain control characters');
      const removed = await deps.disconnector.disconnect(auth.userId, p.provider, p.account, request.log);
      const what = p.account ? `account ${p.account}` : `all ${p.provider} accounts`;
      return {
        success: true,
        message: removed === 0 ? `Nothing to disconnect: no ${what} was connected` : `Disconnected ${removed === 1 ? '1 account' : `${removed} accounts`} (${what})`,
      };
    },
  };

  for (const url of CONNECTION_STATUS_PATHS) {
    app.route({ method: 'GET', url, ...connectionStatus, schema: { ...connectionStatus.schema, ...aliasNote(url, CONNECTION_STATUS_PATHS[0]) } });
  }
  for (const url of DISCONNECT_PATHS) {
    app.route({ method: 'POST', url, ...disconnect, schema: { ...disconnect.schema, ...aliasNote(url, DISCONNECT_PATHS[0]) } });
  }
}
