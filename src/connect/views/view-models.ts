/**
 * What each connect page needs from its route. Every page gets the PageViewModel
 * basics; `actions` hold the URLs the page's forms and links go to, all chosen by the
 * route (the views invent no URL). Forms are `method="post"` with the CSRF token in a
 * hidden field named `FORM_FIELDS.csrf`.
 */
import type { ProviderId } from '../../domain/calendar.js';
import type { Branding } from '../branding/branding.js';
import type { ThemeSetting } from '../branding/theme.js';
import type { Locale } from '../i18n/translator.js';

export type ConnectScope = 'free-busy' | 'read' | 'read-write';
export type OAuthProviderId = Extract<ProviderId, 'google' | 'microsoft'>;

/** Names of the form fields the pages post (the routes read the same names). */
export const FORM_FIELDS = {
  csrf: 'csrf',
  serverUrl: 'server_url',
  username: 'username',
  password: 'password',
  appleId: 'apple_id',
  /** Disconnect form: which account. */
  provider: 'provider',
  account: 'account',
  /** Theme form: the chosen theme (button value) and the page to come back to. */
  theme: 'theme',
  returnTo: 'return_to',
} as const;

/** The remembered-theme buttons (light / dark / device), posted to a route that sets the theme cookie. */
export interface ThemeChoice {
  /** POST target; receives `theme`, `return_to` and the CSRF token. */
  action: string;
  /** Where that route should 303 back to (normally this page's own path). */
  returnTo: string;
  /** The remembered value now (the cookie), `auto` when none. */
  current: ThemeSetting;
}

export interface PageViewModel {
  /** From negotiateLanguage(). */
  locale: Locale;
  /** From resolveTheme(): light/dark force a theme, auto follows the device. */
  theme: ThemeSetting;
  /** From brandingFromStored(client.branding), or DEFAULT_BRANDING when there is no client. */
  branding: Branding;
  /** The client's display name; absent → generic wording ("An app wants to …"). */
  appName?: string;
  /** The nonce sent in this response's CSP `style-src` (see csp.ts). */
  cspNonce: string;
  /** The session's CSRF token; put in every form. */
  csrfToken: string;
  /** Offer the theme buttons (only when canChooseTheme() is true). */
  themeChoice?: ThemeChoice;
}

/** Pages inside a connect session: the header's "Back to <app>" posts `cancel` (→ error=access_denied). */
export interface SessionActions {
  cancel: string;
}

export interface ProviderOption {
  id: ProviderId;
  /** GET link: the login form (caldav, apple) or the route that starts the provider's OAuth (google, microsoft). */
  href: string;
}

export interface ConnectedAccountView {
  provider: ProviderId;
  /** The account's identity, usually the email. */
  accountId: string;
  /** Display name when the provider gave one. */
  display?: string;
  /** `ok`, `reauth_required`, … (anything but `ok`-like states that need the user is shown as attention). */
  syncState: string;
  calendarPermissionGranted: boolean;
  /** Calendar access was granted, but less than this session's scope needs (read where read-write is asked). */
  needsMoreAccess?: boolean;
  /** Where "Reconnect" goes (same as the provider's ProviderOption href, maybe with a login hint). */
  reconnectHref?: string;
}

export interface HubViewModel extends PageViewModel {
  scope: ConnectScope;
  /** Already filtered: configured and allowed by the `providers` parameter (see offeredProviders()). */
  providers: ProviderOption[];
  accounts: ConnectedAccountView[];
  /** The user may connect no more accounts: the provider list is replaced by a message. */
  limitReached?: boolean;
  /**
   * The user may have accounts this page does not list (a plain authorize request cannot
   * prove who the user is, so it shows only what it connected): say so without naming
   * any, and offer Continue even with nothing listed.
   */
  otherAccountsHidden?: boolean;
  /** One-shot message after a redirect back to the hub. */
  notice?: { kind: 'connected' | 'disconnected'; account: string };
  actions: SessionActions & {
    /** POST: finish, 302 to redirect_uri?code=… (shown when an account is listed, or when others may be hidden). */
    finish: string;
    /** POST with `provider` and `account`. */
    disconnect: string;
  };
}

export type CaldavErrorCode =
  | 'server_url_required'
  | 'server_url_invalid'
  | 'server_url_blocked'
  | 'server_unreachable'
  | 'not_caldav'
  | 'server_answer_too_large'
  | 'username_required'
  | 'username_invalid'
  | 'password_required'
  | 'invalid_credentials'
  | 'timeout'
  | 'rate_limited'
  | 'unknown';

export interface CaldavLoginViewModel extends PageViewModel {
  /** Re-filled after an error. The password is never re-filled. */
  values?: { serverUrl?: string; username?: string };
  errors?: CaldavErrorCode[];
  actions: SessionActions & {
    /** POST: server_url, username, password. */
    submit: string;
    /** GET: back to the hub. */
    back: string;
  };
}

export type IcloudErrorCode =
  | 'apple_id_required'
  | 'apple_id_invalid'
  | 'app_password_required'
  | 'invalid_credentials'
  | 'server_answer_too_large'
  | 'timeout'
  | 'rate_limited'
  | 'unknown';

export interface IcloudLoginViewModel extends PageViewModel {
  values?: { appleId?: string };
  errors?: IcloudErrorCode[];
  actions: SessionActions & {
    /** POST: apple_id, password. */
    submit: string;
    back: string;
  };
}

export interface OAuthRedirectViewModel extends PageViewModel {
  provider: OAuthProviderId;
  /** The provider's authorization URL (GET link, opened in place). */
  authorizationUrl: string;
  actions: SessionActions & { back: string };
}

export interface ConsentViewModel extends PageViewModel {
  scope: ConnectScope;
  /** The accounts the app will reach, when known. */
  accounts?: Array<Pick<ConnectedAccountView, 'provider' | 'accountId' | 'display'>>;
  actions: SessionActions & {
    /** POST: grant, then 302 to redirect_uri?code=… */
    allow: string;
  };
}

export type ErrorKind =
  | 'unknown_client'
  | 'invalid_redirect_uri'
  | 'invalid_request'
  | 'provider_denied'
  | 'provider_error'
  /** The provider's organization requires an administrator to approve the application first. */
  | 'admin_consent_required'
  | 'csrf'
  | 'rate_limited'
  | 'no_providers'
  | 'account_limit'
  | 'not_found'
  | 'server_error';

/** Error pages can come before any session exists, so the CSRF token and actions are optional. */
export interface ErrorViewModel extends Omit<PageViewModel, 'csrfToken'> {
  csrfToken?: string;
  kind: ErrorKind;
  /** GET: e.g. the hub again. */
  retryUrl?: string;
  /** GET link back to the app (e.g. redirect_uri?error=…&state=…). Never for an unregistered redirect_uri. */
  backUrl?: string;
  /** POST alternative to backUrl inside a session (needs csrfToken). */
  actions?: Partial<SessionActions>;
  /** Request id to quote to support. */
  reference?: string;
}

export interface SessionExpiredViewModel extends Omit<PageViewModel, 'csrfToken'> {
  csrfToken?: string;
  /** GET: the original authorize URL, when the route can rebuild it. */
  restartUrl?: string;
  /** GET: back to the app, when restartUrl is unknown. */
  backUrl?: string;
}
