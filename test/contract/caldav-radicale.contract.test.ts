/** The provider contract for the CalDAV adapter on Radicale. */
import { CALDAV_SERVERS } from '../support/caldav-servers.js';
import { startCaldavFixture } from './caldav-fixture.js';
import { runProviderContract } from './provider-contract.js';

const radicale = CALDAV_SERVERS.find((s) => s.name === 'radicale')!;
runProviderContract('caldav on radicale', () => startCaldavFixture(radicale), { skip: radicale.skip });
