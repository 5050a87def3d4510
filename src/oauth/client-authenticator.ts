/**
 * Client authentication at /token (RFC 6749 §2.3.1): HTTP Basic, or client_id and
 * client_secret in the body. Using both with different ids, or neither, is refused.
 */
import { OAuthError } from '../domain/errors.js';
import { checkClientSecret, hashClientSecret } from '../crypto/secret-hash.js';
import type { ClientRecord, ClientsRepository } from '../storage/repositories/clients.repo.js';

export interface PresentedClient {
  clientId: string;
  clientSecret: string;
  viaBasic: boolean;
}

function decodeBasic(header: string): { id: string; secret: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=._~-]+)\s*$/i.exec(header);
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  // RFC 6749 §2.3.1: both parts are form-urlencoded before Base64.
  try {
    return { id: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')), secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')) };
  } catch {
    return { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
  }
}

export function readClientCredentials(authorization: string | undefined, body: { client_id?: string; client_secret?: string }): PresentedClient {
  if (authorization && /^Basic\s/i.test(authorization)) {
    const basic = decodeBasic(authorization);
    if (!basic) throw new OAuthError('invalid_client', 'Malformed Basic authorization header', 401);
    if (body.client_id !== undefined && body.client_id !== basic.id) {
      throw new OAuthError('invalid_request', 'client_id in the body does not match the Basic credentials');
    }
    return { clientId: basic.id, clientSecret: basic.secret, viaBasic: true };
  }
  if (body.client_id === undefined) throw new OAuthError('invalid_request', 'Missing client_id');
  if (body.client_secret === undefined) throw new OAuthError('invalid_client', 'Missing client_secret');
  return { clientId: body.client_id, clientSecret: body.client_secret, viaBasic: false };
}

const UNKNOWN_CLIENT_HASH = `hmac-sha256$${'A'.repeat(43)}`;

/** @param secretKey Keys.clientSecrets */
export async function authenticateClient(clients: ClientsRepository, presented: PresentedClient, secretKey: Buffer): Promise<ClientRecord> {
  const fail = () => new OAuthError('invalid_client', 'Client authentication failed', presented.viaBasic ? 401 : 400);
  if (presented.clientId.length > 200) throw fail();
  const client = await clients.find(presented.clientId);
  if (!client) {
    // Spend the same time as a real check so response timing does not reveal which ids exist.
    await checkClientSecret(secretKey, presented.clientSecret, UNKNOWN_CLIENT_HASH);
    throw fail();
  }
  const check = await checkClientSecret(secretKey, presented.clientSecret, client.secretHash);
  if (check === 'mismatch') throw fail();
  if (check === 'match-legacy') {
    // The one scrypt verification this client will cost: from now on it is an HMAC.
    const upgraded = hashClientSecret(secretKey, presented.clientSecret);
    await clients.replaceSecretHash(client.clientId, client.secretHash, upgraded);
    return { ...client, secretHash: upgraded };
  }
  return client;
}
