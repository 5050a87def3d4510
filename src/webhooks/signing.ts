/**
 * Standard Webhooks signatures. `v1`: HMAC-SHA256 of `id.timestamp.body` under the
 * client's `whsec_` secret, computed by the `standardwebhooks` package (what receivers
 * verify with). While a secret is being rotated the previous one signs too, so a
 * receiver that still has it keeps verifying. `v1a`: Ed25519 over the same bytes with
 * the deployment's key, whose public half (`whpk_…`) is published at
 * /.well-known/webhook-keys for receivers that prefer fetching a key to holding a secret.
 * The package does not implement v1a, so that primitive is node:crypto's.
 */
import { createHash, createPrivateKey, createPublicKey, sign as edSign, type KeyObject } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** PKCS#8 wrapping of a raw 32-byte Ed25519 seed (RFC 8410). */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface PublishedKey {
  kid: string;
  alg: 'ed25519';
  /** `whpk_` + base64 of the raw 32-byte public key. */
  key: string;
}

export class WebhookSigner {
  private readonly privateKey: KeyObject;
  readonly publicKey: PublishedKey;

  constructor(seed: Buffer) {
    if (seed.length !== 32) throw new Error('The webhook signing seed must be 32 bytes');
    this.privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
    const raw = createPublicKey(this.privateKey).export({ format: 'der', type: 'spki' }).subarray(-32);
    this.publicKey = { kid: createHash('sha256').update(raw).digest('base64url').slice(0, 16), alg: 'ed25519', key: `whpk_${raw.toString('base64')}` };
  }

  /** The standard headers for one attempt: every current secret's v1 signature, then v1a. */
  headers(id: string, timestamp: Date, body: string, secrets: readonly string[]): Record<string, string> {
    const seconds = Math.floor(timestamp.getTime() / 1000);
    const signatures = secrets.map((secret) => new Webhook(secret).sign(id, timestamp, body));
    const ed = edSign(null, Buffer.from(`${id}.${seconds}.${body}`, 'utf8'), this.privateKey).toString('base64');
    signatures.push(`v1a,${ed}`);
    return { 'webhook-id': id, 'webhook-timestamp': String(seconds), 'webhook-signature': signatures.join(' ') };
  }
}
