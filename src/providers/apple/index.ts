/** Public surface of the iCloud adapter. */
export { createAppleProvider } from './apple-provider.js';
export { discoverAppleAccount, ICLOUD_CALDAV_URL } from './apple-discovery.js';
export type { AppleAccountInput } from './apple-discovery.js';
export { CaldavConnectError } from '../caldav/index.js';
