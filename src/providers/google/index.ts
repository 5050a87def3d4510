/** The Google adapter's public surface for the composition root and the connect flow. */
export { createGoogleProvider } from './google-provider.js';
export type { GoogleProvider } from './google-provider.js';
export { GoogleOAuthClient } from './google-oauth-client.js';
export type { AuthorizeUrlParams, GoogleOAuthClientOptions, GoogleTokenSet, GoogleUserInfo } from './google-oauth-client.js';
export { GOOGLE_DEFAULT_RETRY, GOOGLE_DEFAULT_URLS } from './google-settings.js';
export type { GoogleRetrySettings, GoogleSettings } from './google-settings.js';
export { calendarPermissionGranted, googleScopesFor, GOOGLE_SCOPES } from './google-scopes.js';
export type { AlmanacScope } from './google-scopes.js';
export type { GoogleHttpDeps } from './google-http.js';
