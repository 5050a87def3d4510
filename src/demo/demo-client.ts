/**
 * The demo client: created on the first start of an empty database so a newcomer can
 * try the whole flow with nothing but a browser. Its redirect URI is Almanac's own
 * /demo/callback page and follows the server's public URL on every start (PORT or
 * ALMANAC_PUBLIC_URL may change between starts).
 *
 * Client secrets are stored hashed, so "show the secret again" needs a copy: the demo
 * client's secret is kept sealed (AES-256-GCM under the credentials key, like provider
 * credentials), which whoever runs the server can open (`almanac demo`) and a database
 * dump alone cannot. `almanac demo --rotate-secret` replaces it.
 */
import { ValidationError } from '../domain/errors.js';
import { SecretBox } from '../crypto/secret-box.js';
import type { ClientRegistry } from '../oauth/client-registry.js';
import type { ClientRecord } from '../storage/repositories/clients.repo.js';
import type { DemoClientRepository } from '../storage/repositories/demo-client.repo.js';

export const DEMO_CALLBACK_PATH = '/demo/callback';
export const DEMO_USER_ID = 'demo-user';
const DEMO_NAME = 'Demo app';

export function demoRedirectUri(publicUrl: string): string {
  return `${publicUrl}${DEMO_CALLBACK_PATH}`;
}

/** The authorize URL that starts the demo flow on the server at `publicUrl`. */
export function demoAuthorizeUrl(publicUrl: string, clientId: string): string {
  const url = new URL(`${publicUrl}/api/oauth/authorize`);
  url.search = new URLSearchParams({ response_type: 'code', client_id: clientId, user_id: DEMO_USER_ID, scope: 'read-write', state: 'demo' }).toString();
  return url.toString();
}

/** The server's base URL as the demo client last saw it (from its redirect URI). */
export function demoBaseUrl(client: ClientRecord): string | undefined {
  const uri = client.redirectUris.find((u) => u.endsWith(DEMO_CALLBACK_PATH));
  return uri?.slice(0, -DEMO_CALLBACK_PATH.length);
}

export interface DemoCredentials {
  client: ClientRecord;
  /** Undefined when no valid copy is kept (rotated elsewhere, or adopted from an older install). */
  clientSecret?: string;
}

export type EnsureResult =
  | { kind: 'created'; client: ClientRecord; clientSecret: string }
  | { kind: 'existing'; client: ClientRecord; redirectMoved: boolean }
  | { kind: 'none' };

export class DemoClients {
  private readonly box: SecretBox;

  constructor(
    private readonly clients: ClientRegistry,
    private readonly marks: DemoClientRepository,
    credentialsKey: Buffer,
  ) {
    this.box = new SecretBox(credentialsKey);
  }

  /**
   * On every start: the demo client's redirect follows `publicUrl`; with no client at
   * all, one is created. A deployment that deleted it and has clients of its own gets none.
   */
  async ensure(publicUrl: string): Promise<EnsureResult> {
    const own = ownPage(publicUrl);
    const current = await this.find();
    if (current) {
      const wanted = demoRedirectUri(publicUrl);
      if (current.redirectUris.length === 1 && current.redirectUris[0] === wanted) return { kind: 'existing', client: current, redirectMoved: false };
      const client = await this.clients.update(current.clientId, { redirectUris: [wanted] }, own);
      return { kind: 'existing', client, redirectMoved: true };
    }
    if ((await this.clients.count()) > 0) return { kind: 'none' };
    const { client, clientSecret } = await this.clients.create({ name: DEMO_NAME, displayName: 'Almanac demo', redirectUris: [demoRedirectUri(publicUrl)] }, own);
    await this.marks.save(client.clientId, this.seal(client.clientId, clientSecret));
    return { kind: 'created', client, clientSecret };
  }

  /** The demo client, if there is one (adopting one made before it was marked). */
  async find(): Promise<ClientRecord | undefined> {
    const mark = await this.marks.find();
    if (mark) return this.clients.get(mark.clientId).catch(() => undefined);
    // Before demo clients were marked, the first start made one with this name and only
    // the /demo/callback redirect: adopt it (its secret was shown once and is not known).
    const legacy = (await this.clients.list()).find((c) => c.name === DEMO_NAME && c.redirectUris.length > 0 && c.redirectUris.every((u) => u.endsWith(DEMO_CALLBACK_PATH)));
    if (legacy) await this.marks.save(legacy.clientId, null);
    return legacy;
  }

  /** The demo client with its secret, when the kept copy still matches. */
  async credentials(): Promise<DemoCredentials | undefined> {
    const client = await this.find();
    if (!client) return undefined;
    const mark = await this.marks.find();
    if (!mark?.secretSealed) return { client };
    let secret: string;
    try {
      secret = this.box.open(mark.secretSealed, aad(client.clientId));
    } catch {
      // Sealed under another key (ALMANAC_SECRET_KEY changed): not recoverable.
      return { client };
    }
    // `clients rotate-secret` may have replaced it since; never show a secret that no longer works.
    return (await this.clients.verifySecret(client.clientId, secret)) ? { client, clientSecret: secret } : { client };
  }

  async rotateSecret(): Promise<DemoCredentials | undefined> {
    const client = await this.find();
    if (!client) return undefined;
    const clientSecret = await this.clients.rotateSecret(client.clientId);
    await this.marks.save(client.clientId, this.seal(client.clientId, clientSecret));
    return { client, clientSecret };
  }

  private seal(clientId: string, secret: string): string {
    return this.box.seal(secret, aad(clientId));
  }
}

function aad(clientId: string): string {
  return `demo-client-secret:${clientId}`;
}

/** The demo's redirect is this server's own page: exactly that URL, whatever its scheme. */
function ownPage(publicUrl: string): (uri: string) => string {
  const expected = demoRedirectUri(publicUrl);
  return (uri) => {
    if (uri !== expected) throw new ValidationError(`The demo client redirects only to ${expected}`);
    return uri;
  };
}
