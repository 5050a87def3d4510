/** What every route handler gets, and the small helpers they share. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AlmanacClient } from '@almanac/sdk';
import { page, type SafeHtml } from './html.js';
import { sameSecret, type Session, type SessionStore } from './sessions.js';

export interface AppConfig {
  /** Almanac's public URL, without `/api`. */
  almanacUrl: string;
  clientId: string;
  clientSecret: string;
  /** This app's public URL; the OAuth redirect URI is `${appUrl}/callback`. */
  appUrl: string;
  /** Handed to the SDK, e.g. to route requests through a proxy. */
  fetch?: typeof fetch;
}

/** An answer other than 200 that a handler decides on; the server renders it as a page. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * One SDK client per session, held weakly: the SDK runs at most one token refresh at a
 * time *per client*, so two requests of the same user must share it. Otherwise both
 * would refresh with the same refresh token, and rotation would make the second fail.
 */
const clients = new WeakMap<Session, AlmanacClient>();

export class Context {
  #form?: Promise<URLSearchParams>;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly url: URL,
    readonly session: Session,
    readonly store: SessionStore,
    readonly config: AppConfig,
  ) {}

  get redirectUri(): string {
    return `${this.config.appUrl}/callback`;
  }

  get connected(): boolean {
    return this.store.tokens(this.session) !== undefined;
  }

  /** Pages that show calendar data need tokens; without them the user is sent to connect first. */
  requireConnected(): void {
    if (!this.connected) throw new HttpError(401, 'Connect a calendar first.');
  }

  /** The session's SDK client, created with the stored tokens on first use. */
  almanac(): AlmanacClient {
    let client = clients.get(this.session);
    if (client) return client;
    const { session, store } = this;
    client = new AlmanacClient({
      baseUrl: `${this.config.almanacUrl}/api`,
      clientId: this.config.clientId,
      clientSecret: this.config.clientSecret,
      redirectUri: this.redirectUri,
      credentials: store.tokens(session),
      ...(this.config.fetch ? { fetch: this.config.fetch } : {}),
      // Refresh tokens rotate: once the SDK has refreshed, the stored refresh token is
      // dead. The SDK awaits this before the waiting calls continue, so the store is
      // never behind.
      onTokensRefreshed: (tokens) => store.saveTokens(session, tokens),
    });
    clients.set(session, client);
    return client;
  }

  /** Forgets the tokens and the client holding them (after revoke, or when Almanac refused them). */
  disconnect(): void {
    this.store.forgetTokens(this.session);
    clients.delete(this.session);
  }

  /** The posted form, after checking its CSRF token. */
  async form(): Promise<URLSearchParams> {
    this.#form ??= readForm(this.req);
    const form = await this.#form;
    if (!sameSecret(form.get('csrf') ?? undefined, this.session.csrf)) {
      throw new HttpError(403, 'This form has expired or came from another site. Go back, reload the page and try again.');
    }
    return form;
  }

  sendPage(title: string, body: SafeHtml, opts: { status?: number; notice?: { kind: 'ok' | 'error'; text: string } } = {}): void {
    const text = page({ title, connected: this.connected, csrf: this.session.csrf, ...(opts.notice ? { notice: opts.notice } : {}) }, body);
    this.res.writeHead(opts.status ?? 200, { 'content-type': 'text/html; charset=utf-8' });
    this.res.end(text);
  }

  /** 303 after a POST so that reloading the result page does not submit the form again. */
  redirect(location: string, status = 303): void {
    this.res.writeHead(status, { location });
    this.res.end();
  }
}

const MAX_FORM_BYTES = 64 * 1024;

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw new HttpError(415, 'Expected a form submission.');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new HttpError(413, 'The form is too large.');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
