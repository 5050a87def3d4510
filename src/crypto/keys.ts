/**
 * One configured secret, several independent keys: HKDF-SHA256 with a distinct label
 * per use, so a key leaked from one purpose (say, cookie signing) says nothing of another.
 */
import { hkdfSync } from 'node:crypto';

export interface Keys {
  /** HS256 key for access and refresh JWTs. */
  jwt: Uint8Array;
  /** AES-256-GCM key for provider credentials at rest. */
  credentials: Buffer;
  /** HMAC key for the oauth_req cookie and CSRF tokens. */
  cookies: Buffer;
  /** HMAC key for API page cursors. */
  cursors: Buffer;
  /** HMAC key for hashing token ids and codes before storage. */
  lookup: Buffer;
  /** AES-256-GCM key for mirrored calendars and events at rest. */
  mirror: Buffer;
  /** HMAC key for stored client secrets. */
  clientSecrets: Buffer;
  /** HMAC key deriving a refresh token's successor id from its own (the reuse grace). */
  refreshSuccessor: Buffer;
  /** AES-256-GCM key for webhook signing secrets and delivery bodies at rest. */
  webhooks: Buffer;
  /** Seed of the Ed25519 key that signs webhooks (`v1a`); its public half is published. */
  webhookSigningSeed: Buffer;
}

function derive(secret: string, label: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.from('almanac'), Buffer.from(label), 32));
}

export function deriveKeys(secret: string): Keys {
  return {
    jwt: new Uint8Array(derive(secret, 'jwt-hs256')),
    credentials: derive(secret, 'credentials-aes-256-gcm'),
    cookies: derive(secret, 'cookies-hmac'),
    cursors: derive(secret, 'cursor-hmac'),
    lookup: derive(secret, 'lookup-hmac'),
    mirror: derive(secret, 'mirror-aes-256-gcm'),
    clientSecrets: derive(secret, 'client-secret-hmac'),
    refreshSuccessor: derive(secret, 'refresh-successor-hmac'),
    webhooks: derive(secret, 'webhooks-aes-256-gcm'),
    webhookSigningSeed: derive(secret, 'webhook-ed25519-seed'),
  };
}
