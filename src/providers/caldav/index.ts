/** Public surface of the CalDAV adapter; everything else in this folder is internal. */
import { discoverCaldavAccount } from './caldav-discovery.js';
import { createDavProvider, type DavProvider } from './caldav-provider.js';

export { CaldavConnectError, discoverCaldavAccount, discoverDavAccount } from './caldav-discovery.js';
export type { CaldavAccount, CaldavConnectReason, DiscoveryMessages } from './caldav-discovery.js';
export { createDavProvider } from './caldav-provider.js';
export type { DavProvider, DavProviderOptions } from './caldav-provider.js';

export function createCaldavProvider(): DavProvider {
  return createDavProvider({
    id: 'caldav',
    discoverHome: async (fetch, credentials, signal) =>
      (
        await discoverCaldavAccount(fetch, {
          serverUrl: credentials.principalUrl ?? credentials.serverUrl,
          username: credentials.username,
          password: credentials.password,
          ...(signal ? { signal } : {}),
        })
      ).calendarHomeUrl,
  });
}
