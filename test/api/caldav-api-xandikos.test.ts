/**
 * The CalDAV API suite against Xandikos, on SQLite and PostgreSQL: a second server
 * with other habits (a time-range filter that misses later occurrences of a series,
 * 207 answers to failed PUTs, calendar data rewritten on store).
 */
import { CALDAV_SERVERS } from '../support/caldav-servers.js';
import { caldavApiSuite } from './caldav-api-suite.js';

await caldavApiSuite(CALDAV_SERVERS.find((s) => s.name === 'xandikos')!);
