/** The Microsoft adapter's public surface for the composition root and the connect flow. */
export { createMicrosoftProvider } from './microsoft-provider.js';
export { MicrosoftOAuthClient } from './microsoft-oauth-client.js';
export type { MicrosoftAuthorizeParams, MicrosoftIdentity, MicrosoftTokenSet } from './microsoft-oauth-client.js';
export { MICROSOFT_DEFAULT_RETRY, MICROSOFT_DEFAULTS } from './microsoft-settings.js';
export type { MicrosoftRetrySettings, MicrosoftSettings } from './microsoft-settings.js';
export { calendarPermissionGranted, microsoftScopesFor } from './microsoft-scopes.js';
export type { GraphHttpDeps } from './graph-http.js';
