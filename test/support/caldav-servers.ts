/** The real CalDAV servers the suites run against, each skipped with a line saying what to install. */
import type { CaldavTestServer } from './caldav-test-server.js';
import { RADICALE_SKIP, startRadicale } from './radicale.js';
import { SABREDAV_SKIP, startSabredav } from './sabredav.js';
import { startXandikos, XANDIKOS_SKIP } from './xandikos.js';

export interface CaldavServerChoice {
  name: CaldavTestServer['kind'];
  skip: string | false;
  start(options: { users: Record<string, string> }): Promise<CaldavTestServer>;
}

export const CALDAV_SERVERS: readonly CaldavServerChoice[] = [
  { name: 'radicale', skip: RADICALE_SKIP, start: startRadicale },
  { name: 'xandikos', skip: XANDIKOS_SKIP, start: startXandikos },
  { name: 'sabredav', skip: SABREDAV_SKIP, start: startSabredav },
];
