/**
 * The provider contract for the CalDAV adapter on SabreDAV: HTTP Digest authentication
 * only and no sync-collection, as Baïkal serves by default (no read-only calendars: the
 * owner of a calendar may always write it there).
 */
import { CALDAV_SERVERS } from '../support/caldav-servers.js';
import { startCaldavFixture } from './caldav-fixture.js';
import { runProviderContract } from './provider-contract.js';

const sabredav = CALDAV_SERVERS.find((s) => s.name === 'sabredav')!;
runProviderContract('caldav on sabredav', () => startCaldavFixture(sabredav), { skip: sabredav.skip });
