/**
 * Registering client applications: ids and secrets are generated here, secrets leave
 * only once (at creation or rotation) and are stored as keyed hashes (crypto/secret-hash.ts).
 */
import { ValidationError, NotFoundError } from '../domain/errors.js';
import { checkClientSecret, hashClientSecret, randomToken } from '../crypto/secret-hash.js';
import type { ClientChanges, ClientRecord, ClientsRepository } from '../storage/repositories/clients.repo.js';
import { validateBranding } from '../connect/branding/branding.js';

/** Branding is validated strictly when it is set, so the pages never meet a bad value. */
function checkedBranding(input: Record<string, unknown>): Record<string, unknown> {
  const result = validateBranding(input);
  if (!result.ok) {
    throw new ValidationError(`Invalid branding: ${result.errors.map((e) => `${e.field} ${e.message}`).join('; ')}`, result.errors);
  }
  // Store only what was given (defaults stay implicit), in its validated form.
  const given = new Set(Object.keys(input).filter((k) => input[k] !== undefined && input[k] !== null && input[k] !== ''));
  return Object.fromEntries(Object.entries(result.branding).filter(([k]) => given.has(k)));
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Redirect URIs are matched exactly, so they are checked strictly once, here:
 * absolute, no fragment (RFC 6749 §3.1.2), no credentials, https except on loopback
 * (RFC 8252 §7.3), or a private-use scheme with a dot for native apps (RFC 8252 §7.1).
 */
export function validateRedirectUri(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ValidationError(`Redirect URI is not an absolute URL: ${value}`);
  }
  if (value.length > 2000) throw new ValidationError('Redirect URI is longer than 2000 characters');
  if (url.hash || value.includes('#')) throw new ValidationError(`Redirect URI must not contain a fragment: ${value}`);
  if (url.username || url.password) throw new ValidationError(`Redirect URI must not contain credentials: ${value}`);
  if (url.protocol === 'https:') return value;
  if (url.protocol === 'http:') {
    if (LOOPBACK_HOSTS.has(url.hostname)) return value;
    throw new ValidationError(`Redirect URI must use https (http is allowed only for localhost): ${value}`);
  }
  if (/^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+:$/i.test(url.protocol) && !/^(javascript|data|vbscript|file):$/i.test(url.protocol)) return value;
  throw new ValidationError(`Redirect URI scheme ${url.protocol} is not allowed: ${value}`);
}

export function validateWebhookUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ValidationError(`Webhook URL is not an absolute URL: ${value}`);
  }
  if (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) return value;
  throw new ValidationError(`Webhook URL must use https (http is allowed only for localhost): ${value}`);
}

function validateName(name: string, what: string): string {
  const trimmed = name.trim();
  if (trimmed === '') throw new ValidationError(`${what} must not be empty`);
  if (trimmed.length > 200) throw new ValidationError(`${what} is longer than 200 characters`);
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) throw new ValidationError(`${what} must not contain control characters`);
  return trimmed;
}

export interface NewClient {
  name: string;
  displayName?: string;
  redirectUris: string[];
  webhookUrl?: string;
  branding?: Record<string, unknown>;
  /** Refuse plain authorize requests: only pushed ones (POST /api/oauth/par) may start the flow. */
  requirePar?: boolean;
}

/** Checks one redirect URI and returns it as stored; throws ValidationError. */
export type RedirectUriCheck = (uri: string) => string;

export interface ClientUpdate {
  name?: string;
  displayName?: string | null;
  redirectUris?: string[];
  webhookUrl?: string | null;
  branding?: Record<string, unknown>;
  requirePar?: boolean;
}

export class ClientRegistry {
  constructor(
    private readonly repo: ClientsRepository,
    /** Keys.clientSecrets */
    private readonly secretKey: Buffer,
  ) {}

  /**
   * `checkRedirectUri` is the third-party rule unless the target is one of this server's
   * own pages (the demo callback), which lives wherever the server does, plain http included.
   */
  async create(input: NewClient, checkRedirectUri: RedirectUriCheck = validateRedirectUri): Promise<{ client: ClientRecord; clientSecret: string }> {
    if (input.redirectUris.length === 0) throw new ValidationError('At least one redirect URI is required');
    const redirectUris = [...new Set(input.redirectUris.map(checkRedirectUri))];
    const clientSecret = randomToken(32);
    const client = await this.repo.insert({
      clientId: `alm_${randomToken(12)}`,
      name: validateName(input.name, 'Name'),
      displayName: input.displayName !== undefined ? validateName(input.displayName, 'Display name') : null,
      secretHash: hashClientSecret(this.secretKey, clientSecret),
      redirectUris,
      webhookUrl: input.webhookUrl !== undefined ? validateWebhookUrl(input.webhookUrl) : null,
      branding: checkedBranding(input.branding ?? {}),
      requirePar: input.requirePar === true,
    });
    return { client, clientSecret };
  }

  async get(clientId: string): Promise<ClientRecord> {
    const client = await this.repo.find(clientId);
    if (!client) throw new NotFoundError(`No client with id ${clientId}`);
    return client;
  }

  list(): Promise<ClientRecord[]> {
    return this.repo.list();
  }

  count(): Promise<number> {
    return this.repo.count();
  }

  async update(clientId: string, input: ClientUpdate, checkRedirectUri: RedirectUriCheck = validateRedirectUri): Promise<ClientRecord> {
    const changes: ClientChanges = {};
    if (input.name !== undefined) changes.name = validateName(input.name, 'Name');
    if (input.displayName !== undefined) changes.displayName = input.displayName === null ? null : validateName(input.displayName, 'Display name');
    if (input.redirectUris !== undefined) {
      if (input.redirectUris.length === 0) throw new ValidationError('At least one redirect URI is required');
      changes.redirectUris = [...new Set(input.redirectUris.map(checkRedirectUri))];
    }
    if (input.webhookUrl !== undefined) changes.webhookUrl = input.webhookUrl === null ? null : validateWebhookUrl(input.webhookUrl);
    if (input.branding !== undefined) changes.branding = checkedBranding(input.branding);
    if (input.requirePar !== undefined) changes.requirePar = input.requirePar;
    const updated = await this.repo.update(clientId, changes);
    if (!updated) throw new NotFoundError(`No client with id ${clientId}`);
    return updated;
  }

  async rotateSecret(clientId: string): Promise<string> {
    const clientSecret = randomToken(32);
    const updated = await this.repo.update(clientId, { secretHash: hashClientSecret(this.secretKey, clientSecret) });
    if (!updated) throw new NotFoundError(`No client with id ${clientId}`);
    return clientSecret;
  }

  /** True when `secret` is the client's current secret (under either stored hash scheme). */
  async verifySecret(clientId: string, secret: string): Promise<boolean> {
    const client = await this.repo.find(clientId);
    return client !== undefined && (await checkClientSecret(this.secretKey, secret, client.secretHash)) !== 'mismatch';
  }

  async delete(clientId: string): Promise<void> {
    if (!(await this.repo.delete(clientId))) throw new NotFoundError(`No client with id ${clientId}`);
  }
}
