/**
 * The one-shot message on the hub after connecting or disconnecting ("alice is now
 * connected"). It travels in the redirect's query, so it is signed and bound to the
 * connect session: a link someone else crafted, or one from another session, shows
 * nothing — the hub only ever says what this session did.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type NoticeKind = 'connected' | 'disconnected';

function sign(key: Buffer, sid: string, kind: NoticeKind, account: string): string {
  return createHmac('sha256', key).update(JSON.stringify(['hub-notice', sid, kind, account])).digest('base64url');
}

/** `/connect?notice=…&account=…&sig=…` for this session. */
export function noticeUrl(key: Buffer, sid: string, kind: NoticeKind, account: string): string {
  return `/connect?${new URLSearchParams({ notice: kind, account, sig: sign(key, sid, kind, account) })}`;
}

/** The notice in `query` when this session's key signed it; undefined for anything else. */
export function readNotice(key: Buffer, sid: string, query: Record<string, unknown>): { kind: NoticeKind; account: string } | undefined {
  const { notice, account, sig } = query;
  if ((notice !== 'connected' && notice !== 'disconnected') || typeof account !== 'string' || typeof sig !== 'string') return undefined;
  if (account.length > 1000) return undefined;
  const expected = Buffer.from(sign(key, sid, notice, account));
  const given = Buffer.from(sig);
  return given.length === expected.length && timingSafeEqual(given, expected) ? { kind: notice, account } : undefined;
}
