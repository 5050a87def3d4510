/**
 * The connect session: the validated authorize request, carried in the signed,
 * HttpOnly `oauth_req` cookie (API.md) so any instance can serve the next page.
 * Signed with HMAC-SHA256; a tampered, foreign or older-than-2-hours cookie is refused.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ProviderId } from '../domain/calendar.js';
import type { Scope } from '../oauth/scopes.js';

export const SESSION_COOKIE = 'oauth_req';
export const SESSION_MAX_AGE_SECONDS = 7200;
/**
 * The browser drops `oauth_req` after its Max-Age (API.md fixes it at 2 hours), so a user
 * coming back later would meet a page that cannot say what expired. This second cookie
 * outlives it, is signed for a different purpose (never accepted as a live session), and
 * only lets the expired page offer a restart.
 */
export const RESTART_COOKIE = 'oauth_req_restart';
export const RESTART_MAX_AGE_SECONDS = 7 * 24 * 3600;

export interface ConnectSession {
  /** Random id: CSRF tokens and provider `state` values are bound to it. */
  sid: string;
  clientId: string;
  /** Internal end-user id and the application's own id for that user. */
  userId: string;
  externalUserId: string;
  scope: Scope;
  redirectUri: string;
  redirectUriExplicit: boolean;
  state?: string;
  codeChallenge?: string;
  lng?: string;
  theme?: 'light' | 'dark' | 'auto';
  /** Providers the application allowed on the page; absent = all configured. */
  providers?: ProviderId[];
  /**
   * Opened from a pushed authorization request (RFC 9126), made with the client's
   * credentials: the application vouched for `userId`, so the session may show and
   * manage the user's accounts. Absent (a plain authorize URL anyone can type): it may
   * only add accounts, and sees only those it added.
   */
  pushed?: true;
  /** Issued at, epoch ms. */
  iat: number;
}

export type SessionReadResult = { kind: 'ok'; session: ConnectSession } | { kind: 'missing' } | { kind: 'invalid' } | { kind: 'expired'; session: ConnectSession };

type Purpose = typeof SESSION_COOKIE | typeof RESTART_COOKIE;

function sign(key: Buffer, payload: string, purpose: Purpose): string {
  return createHmac('sha256', key).update(`${purpose}.${payload}`).digest('base64url');
}

export function encodeSession(key: Buffer, session: ConnectSession, purpose: Purpose = SESSION_COOKIE): string {
  const payload = Buffer.from(JSON.stringify(session)).toString('base64url');
  return `${payload}.${sign(key, payload, purpose)}`;
}

export function decodeSession(key: Buffer, value: string | undefined, now = Date.now(), purpose: Purpose = SESSION_COOKIE): SessionReadResult {
  if (!value) return { kind: 'missing' };
  const dot = value.lastIndexOf('.');
  if (dot <= 0 || value.length > 8192) return { kind: 'invalid' };
  const payload = value.slice(0, dot);
  const given = Buffer.from(value.slice(dot + 1));
  const expected = Buffer.from(sign(key, payload, purpose));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { kind: 'invalid' };
  let session: ConnectSession;
  try {
    session = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as ConnectSession;
  } catch {
    return { kind: 'invalid' };
  }
  if (typeof session.iat !== 'number' || typeof session.sid !== 'string') return { kind: 'invalid' };
  if (now - session.iat > SESSION_MAX_AGE_SECONDS * 1000) return { kind: 'expired', session };
  return { kind: 'ok', session };
}

/** CSRF token for the session's forms: a MAC of the session id, checked in constant time. */
export function csrfToken(key: Buffer, sid: string): string {
  return createHmac('sha256', key).update(`csrf.${sid}`).digest('base64url');
}

export function checkCsrf(key: Buffer, sid: string, presented: unknown): boolean {
  if (typeof presented !== 'string') return false;
  const expected = Buffer.from(csrfToken(key, sid));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
