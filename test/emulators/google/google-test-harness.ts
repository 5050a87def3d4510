/**
 * Wiring for Google adapter tests: an emulator with one signed-in user, the adapter
 * pointed at it, and a real OAuthTokenManager refreshing through GoogleOAuthClient.
 */
import { OAuthTokenManager, SharedOAuthState } from '../../../src/providers/oauth-token-manager.js';
import type { OAuthTokens } from '../../../src/providers/oauth-token-manager.js';
import { createGoogleProvider, GoogleOAuthClient } from '../../../src/providers/google/index.js';
import type { GoogleSettings } from '../../../src/providers/google/index.js';
import type { CalendarProvider, Logger, OAuthCredentials, ProviderContext } from '../../../src/providers/types.js';
import { MemoryCredentialStore } from '../../support/memory-credential-store.js';
import { startGoogleEmulator } from './google-emulator.js';
import type { GoogleEmulator, GoogleEmulatorOptions } from './google-emulator.js';

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export interface GoogleHarness {
  emulator: GoogleEmulator;
  settings: GoogleSettings;
  provider: CalendarProvider<OAuthCredentials>;
  oauth: GoogleOAuthClient;
  manager: OAuthTokenManager;
  ctx: ProviderContext<OAuthCredentials>;
  email: string;
  persisted: OAuthTokens[];
  close(): Promise<void>;
}

let accountCounter = 0;

export async function startGoogleHarness(
  options: {
    email?: string;
    timeZone?: string;
    scopes?: string[];
    emulator?: GoogleEmulatorOptions;
    retry?: GoogleSettings['retry'];
  } = {},
): Promise<GoogleHarness> {
  const emulator = await startGoogleEmulator(options.emulator);
  const email = options.email ?? 'ada@example.com';
  emulator.addUser(email, { timeZone: options.timeZone });
  const issued = emulator.issueTokens(email, options.scopes);
  const settings: GoogleSettings = {
    ...emulator.settings(),
    // Small delays keep retry tests fast while exercising the same code paths.
    retry: options.retry ?? { maxElapsedMs: 2_000, baseDelayMs: 10 },
  };
  const oauth = new GoogleOAuthClient(settings);
  const store = new MemoryCredentialStore<OAuthTokens>({ accessToken: issued.accessToken, refreshToken: issued.refreshToken, expiresAt: Date.now() + issued.expiresIn * 1000 });
  const manager = new OAuthTokenManager({
    // Unique per harness: files run in parallel and each test's account is its own.
    accountKey: `google:${email}:${process.pid}:${++accountCounter}`,
    providerName: 'Google',
    initial: store.stored,
    refresh: (refreshToken) => oauth.refresh(refreshToken),
    store,
    shared: new SharedOAuthState(),
  });
  const persisted = store.writes;
  return {
    emulator,
    settings,
    provider: createGoogleProvider(settings),
    oauth,
    manager,
    ctx: { credentials: manager, fetch, log: silentLogger },
    email,
    persisted,
    close: () => emulator.close(),
  };
}
