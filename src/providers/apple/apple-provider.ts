/** iCloud: the CalDAV adapter with Apple's discovery and the provider id 'apple'. */
import { createDavProvider, type DavProvider } from '../caldav/index.js';
import { discoverAppleAccount, ICLOUD_CALDAV_URL } from './apple-discovery.js';

export function createAppleProvider(): DavProvider {
  return createDavProvider({
    id: 'apple',
    discoverHome: async (fetch, credentials, signal) =>
      (
        await discoverAppleAccount(fetch, {
          serverUrl: credentials.serverUrl || ICLOUD_CALDAV_URL,
          appleId: credentials.username,
          appPassword: credentials.password,
          ...(signal ? { signal } : {}),
        })
      ).calendarHomeUrl,
  });
}
