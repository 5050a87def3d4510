/**
 * The seam between connect routes and rendering: routes say what to show; this module
 * negotiates language and theme, applies the client's branding, and sends the page with
 * its security headers (or JSON to API clients that asked for it).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ProviderId } from '../domain/calendar.js';
import type { AccountRecord } from '../storage/repositories/accounts.repo.js';
import type { ClientRecord } from '../storage/repositories/clients.repo.js';
import type { ConnectSession } from './connect-session.js';
import type { CaldavErrorCode, ErrorKind, IcloudErrorCode, OAuthProviderId } from './views/view-models.js';

export interface ErrorInfo {
  status: number;
  /** Machine code for JSON answers (`invalid_client`, …). */
  error: string;
  /** English sentence for JSON answers and logs. */
  message: string;
  /** Which localized explanation the page shows. */
  kind?: ErrorKind;
  lng?: string;
  /** GET link: where "try again" goes. */
  retryUrl?: string;
}

/** An account as the hub shows it: `calendarPermissionGranted` means any calendar access at all. */
export interface HubAccount extends AccountRecord {
  /** The grant serves a narrower scope than this session asks for (read, where read-write is wanted). */
  needsMoreAccess: boolean;
}

export interface HubModel {
  session: ConnectSession;
  client: ClientRecord;
  accounts: HubAccount[];
  providers: ProviderId[];
  limitReached: boolean;
  /** A plain session: the user may have accounts the page does not list. */
  otherAccountsHidden: boolean;
  notice?: { kind: 'connected' | 'disconnected'; account: string };
}

export interface LoginModel<E extends string> {
  session: ConnectSession;
  client: ClientRecord;
  errors?: E[];
  values?: Record<string, string>;
  status?: number;
}

export interface ConnectPages {
  hub(request: FastifyRequest, reply: FastifyReply, m: HubModel): FastifyReply;
  caldavLogin(request: FastifyRequest, reply: FastifyReply, m: LoginModel<CaldavErrorCode>): FastifyReply;
  icloudLogin(request: FastifyRequest, reply: FastifyReply, m: LoginModel<IcloudErrorCode>): FastifyReply;
  oauthRedirect(request: FastifyRequest, reply: FastifyReply, m: { session: ConnectSession; client: ClientRecord; provider: OAuthProviderId; authorizationUrl: string }): FastifyReply;
  error(request: FastifyRequest, reply: FastifyReply, m: ErrorInfo & { session?: ConnectSession; client?: ClientRecord }): FastifyReply;
  /** `restartUrl` starts the same request again; without one (a pushed request works once), `backUrl` returns to the app. */
  expired(request: FastifyRequest, reply: FastifyReply, m: { session: ConnectSession; client?: ClientRecord; restartUrl?: string; backUrl?: string }): FastifyReply;
  registerAssets(app: FastifyInstance): void;
}

/** API clients (Accept: application/json without text/html) get JSON errors instead of pages. */
export function wantsJson(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  return /application\/json/i.test(accept) && !/text\/html/i.test(accept);
}
