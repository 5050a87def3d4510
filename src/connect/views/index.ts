/** The connect pages' view layer: pure functions from a view model to an HTML document string. */
export { renderProviderSelection, renderManageConnections, accountAttention } from './hub.js';
export { renderCaldavLogin, renderIcloudLogin, APPLE_ACCOUNT_URL } from './login-pages.js';
export { renderOAuthRedirect, renderConsent, renderError, renderSessionExpired, errorKeys } from './info-pages.js';
export { contentSecurityPolicy, createCspNonce } from './csp.js';
export type { CspOptions } from './csp.js';
export { offeredProviders, providerName, PROVIDER_ORDER } from './providers.js';
export { html, raw, escapeHtml, safeUrl, msg, SafeHtml } from './html.js';
export { FORM_FIELDS } from './view-models.js';
export type * from './view-models.js';
