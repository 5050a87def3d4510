/** The CalDAV API suite against Radicale, on SQLite and PostgreSQL. */
import { CALDAV_SERVERS } from '../support/caldav-servers.js';
import { caldavApiSuite } from './caldav-api-suite.js';

await caldavApiSuite(CALDAV_SERVERS.find((s) => s.name === 'radicale')!);
