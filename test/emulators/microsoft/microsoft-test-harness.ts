/**
 * Wiring for Microsoft adapter tests: an emulator with one signed-in user, the adapter
 * pointed at it, and a real OAuthTokenManager refreshing through MicrosoftOAuthClient.
 */
import { OAuthTokenManager, SharedOAuthState } from '../../../src/providers/oauth-token-manager.js';
import type { OAuthTokens } from '../../../src/providers/oauth-token-manager.js';
import { createMicrosoftProvider, MicrosoftOAuthClient } from '../../../src/providers/microsoft/index.js';
import type { MicrosoftSettings } from '../../../src/providers/microsoft/index.js';
import type { CalendarProvider, Logger, OAuthCredentials, ProviderContext } from '../../../src/providers/types.js';
import { MemoryCredentialStore } from '../../support/memory-credential-store.js';
import { startMicrosoftEmulator } from './microsoft-emulator.js';
import type { MicrosoftEmulator, MicrosoftEmulatorOptions } from './microsoft-emulator.js';

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export interface MicrosoftHarness {
  emulator: MicrosoftEmulator;
  settings: MicrosoftSettings;
  provider: CalendarProvider<OAuthCredentials>;
  oauth: MicrosoftOAuthClient;
  manager: OAuthTokenManager;
  ctx: ProviderContext<OAuthCredentials>;
  email: string;
  persisted: OAuthTokens[];
  close(): Promise<void>;
}

let counter = 0;

export async function startMicrosoftHarness(
  options: { email?: string; scopes?: string[]; emulator?: MicrosoftEmulatorOptions; retry?: MicrosoftSettings['retry'] } = {},
): Promise<MicrosoftHarness> {
  const emulator = await startMicrosoftEmulator(options.emulator);
  const email = options.email ?? 'adele@contoso.onmicrosoft.com';
  emulator.addUser(email);
  const issued = emulator.issueTokens(email, options.scopes);
  const settings: MicrosoftSettings = { ...emulator.settings(), retry: options.retry ?? { maxElapsedMs: 2_000, baseDelayMs: 10 } };
  const oauth = new MicrosoftOAuthClient(settings);
  const store = new MemoryCredentialStore<OAuthTokens>({ accessToken: issued.accessToken, refreshToken: issued.refreshToken, expiresAt: Date.now() + issued.expiresIn * 1000 });
  const manager = new OAuthTokenManager({
    accountKey: `microsoft:${email}:${process.pid}:${++counter}`,
    providerName: 'Microsoft',
    initial: store.stored,
    refresh: (refreshToken) => oauth.refresh(refreshToken),
    store,
    shared: new SharedOAuthState(),
  });
  const persisted = store.writes;
  return {
    emulator,
    settings,
    provider: createMicrosoftProvider(settings),
    oauth,
    manager,
    ctx: { credentials: manager, fetch, log: silentLogger },
    email,
    persisted,
    close: () => emulator.close(),
  };
}
