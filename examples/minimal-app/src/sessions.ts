/**
 * The app's own sessions, kept in memory. A real application would use its
 * database; the point here is *what* it keeps: an opaque cookie pointing at
 * server-side state, and the Almanac tokens only on the server (never in the
 * browser, where any script or extension could read them).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TokenResponse } from '@almanac/sdk';

export const SESSION_COOKIE = 'minimal_app_sid';
/** Sessions idle longer than this are forgotten, so an open server does not grow without bound. */
const IDLE_MS = 24 * 60 * 60 * 1000;
/** Authorizations not finished within this time are refused: a stale `state` is as good as none. */
const PENDING_MS = 15 * 60 * 1000;

export interface PendingAuthorization {
  state: string;
  codeVerifier: string;
  createdAt: number;
}

export interface Session {
  id: string;
  /**
   * This app's id for its user, sent to Almanac as `user_id`. A real app would use its
   * own account id; this one has no accounts, so every browser session is a user.
   */
  userId: string;
  /** Echoed in every form: the forms change data, so a foreign page must not submit them. */
  csrf: string;
  pending?: PendingAuthorization;
  lastSeen: number;
}

function randomId(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function sameSecret(a: string | undefined, b: string | undefined): boolean {
  if (typeof a !== 'string' || typeof b !== 'string') return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieValue(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export class SessionStore {
  readonly #sessions = new Map<string, Session>();
  /** Almanac tokens per app session: the "database table" the SDK's `tokens` event writes to. */
  readonly #tokens = new Map<string, { tokens: TokenResponse; savedAt: number }>();
  #lastSweep = 0;

  /**
   * The request's session, or a new one together with the Set-Cookie header that starts it.
   * `secure` (the app is served over https) adds the Secure attribute.
   */
  resolve(req: IncomingMessage, secure: boolean): { session: Session; setCookie?: string } {
    this.#sweep();
    const id = cookieValue(req, SESSION_COOKIE);
    const existing = id ? this.#sessions.get(id) : undefined;
    if (existing) {
      existing.lastSeen = Date.now();
      return { session: existing };
    }
    const session: Session = { id: randomId(), userId: `user-${randomId(9)}`, csrf: randomId(), lastSeen: Date.now() };
    this.#sessions.set(session.id, session);
    // HttpOnly: scripts have no business with it. SameSite=Lax: sent on the top-level
    // redirect back from Almanac to /callback, withheld from cross-site POSTs.
    const attributes = ['Path=/', 'HttpOnly', 'SameSite=Lax', ...(secure ? ['Secure'] : [])];
    return { session, setCookie: `${SESSION_COOKIE}=${session.id}; ${attributes.join('; ')}` };
  }

  tokens(session: Session): TokenResponse | undefined {
    return this.#tokens.get(session.id)?.tokens;
  }

  /** When the tokens were last written (by the code exchange or a refresh). */
  tokensSavedAt(session: Session): Date | undefined {
    const entry = this.#tokens.get(session.id);
    return entry ? new Date(entry.savedAt) : undefined;
  }

  saveTokens(session: Session, tokens: TokenResponse): void {
    this.#tokens.set(session.id, { tokens: { ...tokens }, savedAt: Date.now() });
  }

  forgetTokens(session: Session): void {
    this.#tokens.delete(session.id);
  }

  /** Takes the pending authorization out (one use only) if it has not expired. */
  takePending(session: Session): PendingAuthorization | undefined {
    const pending = session.pending;
    session.pending = undefined;
    if (!pending || Date.now() - pending.createdAt > PENDING_MS) return undefined;
    return pending;
  }

  #sweep(): void {
    // At most once a minute: walking every session on every request would not scale.
    if (Date.now() - this.#lastSweep < 60_000) return;
    this.#lastSweep = Date.now();
    const cutoff = Date.now() - IDLE_MS;
    for (const [id, session] of this.#sessions) {
      if (session.lastSeen >= cutoff) continue;
      this.#sessions.delete(id);
      this.#tokens.delete(id);
    }
  }
}
