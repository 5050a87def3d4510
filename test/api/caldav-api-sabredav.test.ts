/**
 * The CalDAV API suite against SabreDAV, on SQLite and PostgreSQL: a server that accepts
 * only HTTP Digest (as Baïkal ships) and has no sync-collection.
 */
import { CALDAV_SERVERS } from '../support/caldav-servers.js';
import { caldavApiSuite } from './caldav-api-suite.js';

await caldavApiSuite(CALDAV_SERVERS.find((s) => s.name === 'sabredav')!);
