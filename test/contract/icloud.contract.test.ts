/** The provider contract for the iCloud preset: discovery through a stand-in arranged like iCloud, calendars on Radicale. */
import { CALDAV_SERVERS } from '../support/caldav-servers.js';
import { startIcloudFixture } from './caldav-fixture.js';
import { runProviderContract } from './provider-contract.js';

const radicale = CALDAV_SERVERS.find((s) => s.name === 'radicale')!;
runProviderContract('icloud preset', () => startIcloudFixture(radicale), { skip: radicale.skip });
