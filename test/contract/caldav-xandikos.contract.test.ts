/** The provider contract for the CalDAV adapter on Xandikos (no read-only calendars: it has no access control). */
import { CALDAV_SERVERS } from '../support/caldav-servers.js';
import { startCaldavFixture } from './caldav-fixture.js';
import { runProviderContract } from './provider-contract.js';

const xandikos = CALDAV_SERVERS.find((s) => s.name === 'xandikos')!;
runProviderContract('caldav on xandikos', () => startCaldavFixture(xandikos), { skip: xandikos.skip });
