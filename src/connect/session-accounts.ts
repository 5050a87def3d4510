/**
 * Which accounts a connect session may see and change, and what connecting adds.
 *
 * `user_id` in a plain authorize request is an unproven claim, so a plain session sees
 * and may remove only the connections it made itself; a session opened from a pushed
 * request (the application vouched for the user) also sees and manages the user's
 * accounts. Whatever a session connects is pending: it joins the user's accounts when
 * the application exchanges that session's code (oauth/token.service.ts), or never.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { ProviderId } from '../domain/calendar.js';
import { CODE_TTL_MS } from '../oauth/token.service.js';
import type { AccountRecord, AccountsRepository, PendingConnection } from '../storage/repositories/accounts.repo.js';
import type { AccountDisconnector } from './account-disconnector.js';
import { SESSION_MAX_AGE_SECONDS, type ConnectSession } from './connect-session.js';

/** Instances' clocks may differ a little: a pending row outlives its session and code by this much. */
const CLOCK_MARGIN_MS = 5 * 60_000;

/** When nothing can join a session's connections any more: Continue up to its end, then the code's lifetime. */
export function pendingDeadline(session: ConnectSession): number {
  return session.iat + SESSION_MAX_AGE_SECONDS * 1000 + CODE_TTL_MS + CLOCK_MARGIN_MS;
}

const sameAccount = (a: Pick<AccountRecord, 'provider' | 'identity'>, b: Pick<AccountRecord, 'provider' | 'identity'>) => a.provider === b.provider && a.identity === b.identity;

export type NewConnection = Omit<PendingConnection, 'sessionId' | 'expiresAt' | 'userId'>;

export class SessionAccounts {
  constructor(
    private readonly accounts: AccountsRepository,
    private readonly disconnector: AccountDisconnector,
    private readonly maxAccountsPerUser: number,
  ) {}

  /**
   * What the hub lists: this session's connections, and in a pushed session the user's
   * accounts too, a pending reconnect shown in place of the account it will repair.
   */
  async visible(session: ConnectSession): Promise<AccountRecord[]> {
    const pending = await this.accounts.listPending(session.userId, session.sid);
    if (!session.pushed) return pending;
    const own = await this.accounts.listForUser(session.userId);
    const shown = own.map((a) => {
      const repair = pending.find((p) => sameAccount(p, a));
      return repair ? { ...repair, accountId: a.accountId } : a;
    });
    return [...shown, ...pending.filter((p) => !own.some((a) => sameAccount(p, a)))];
  }

  /** Accounts the user would have if this session's code were exchanged now (for the limit). */
  private async prospective(session: ConnectSession): Promise<{ own: AccountRecord[]; added: AccountRecord[] }> {
    const [own, pending] = await Promise.all([this.accounts.listForUser(session.userId), this.accounts.listPending(session.userId, session.sid)]);
    return { own, added: pending.filter((p) => !own.some((a) => sameAccount(p, a))) };
  }

  /** Whether the hub should stop offering providers. A plain session always offers them: it may need to repair an account it cannot see. */
  async limitReached(session: ConnectSession): Promise<boolean> {
    if (!session.pushed) return false;
    const { own, added } = await this.prospective(session);
    return own.length + added.length >= this.maxAccountsPerUser;
  }

  /** A new account must fit under the per-user limit; reconnecting one the user has, or this session added, always may. */
  async wouldExceedLimit(session: ConnectSession, provider: ProviderId, identity: string): Promise<boolean> {
    const { own, added } = await this.prospective(session);
    const candidate = { provider, identity };
    if (own.some((a) => sameAccount(a, candidate)) || added.some((a) => sameAccount(a, candidate))) return false;
    return own.length + added.length >= this.maxAccountsPerUser;
  }

  /**
   * Stages a verified connection for this session. Returns the id the hub shows for it:
   * in a pushed session the id of the account it will repair, if the user has it, and
   * otherwise an id none of the user's accounts holds; in a plain session an id chosen
   * among the session's own connections (nothing else may shape what it sees).
   */
  async stage(session: ConnectSession, connection: NewConnection): Promise<string> {
    const own = session.pushed ? (await this.accounts.listForUser(session.userId)).filter((a) => a.provider === connection.provider) : [];
    const staged = await this.accounts.stagePending({
      ...connection,
      takenIds: own.filter((a) => a.identity !== connection.identity).map((a) => a.accountId),
      sessionId: session.sid,
      expiresAt: pendingDeadline(session),
      userId: session.userId,
    });
    return own.find((a) => a.identity === connection.identity)?.accountId ?? staged.accountId;
  }

  /**
   * Disconnects an account the session can see, by the id the hub showed: a connection
   * of this session is forgotten; in a pushed session one of the user's accounts is
   * removed (revoked at the provider where it allows). False when the session cannot
   * see such an account, which is all a plain session learns about the user's others.
   */
  async disconnect(session: ConnectSession, provider: ProviderId, accountId: string, log: FastifyBaseLogger): Promise<boolean> {
    if (session.pushed) {
      const own = (await this.accounts.listForUser(session.userId)).find((a) => a.provider === provider && a.accountId === accountId);
      if (own) {
        await this.disconnector.disconnect(session.userId, provider, accountId, log);
        // A reconnect of it waiting in this session must not bring it back.
        const pending = await this.accounts.listPending(session.userId, session.sid);
        for (const p of pending.filter((x) => sameAccount(x, own))) await this.accounts.deletePending(session.userId, session.sid, provider, p.accountId);
        return true;
      }
    }
    return (await this.accounts.deletePending(session.userId, session.sid, provider, accountId)) > 0;
  }

  /** The session ended without a code (Cancel): what it connected is forgotten now, not at expiry. */
  async forget(session: ConnectSession): Promise<void> {
    await this.accounts.deletePending(session.userId, session.sid);
  }
}
