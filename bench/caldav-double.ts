/**
 * A CalDAV server for the poll benchmark, run as its own process so its CPU is not
 * counted as Almanac's: `/u<n>/` is a calendar home with CALENDARS calendars whose
 * change markers never change, and each calendar answers a sync-collection with an
 * empty change set. Prints `listening <url>` once up.
 */
import { createServer } from 'node:http';

const CALENDARS = Number(process.env.CALENDARS_PER_HOME ?? 10);

function home(path: string): string {
  const responses = [`<d:response><d:href>${path}</d:href><d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`];
  for (let c = 0; c < CALENDARS; c++) {
    responses.push(
      `<d:response><d:href>${path}cal${c}/</d:href><d:propstat><d:prop>` +
        `<d:resourcetype><d:collection/><c:calendar/></d:resourcetype><d:displayname>Calendar ${c}</d:displayname>` +
        `<c:supported-calendar-component-set><c:comp name="VEVENT"/></c:supported-calendar-component-set>` +
        `<cs:getctag>ctag-1</cs:getctag><d:sync-token>https://double.example/sync/1</d:sync-token>` +
        `</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`,
    );
  }
  return multistatus(responses.join(''));
}

function multistatus(inner: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:cs="http://calendarserver.org/ns/">${inner}</d:multistatus>`;
}

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    res.setHeader('content-type', 'application/xml; charset=utf-8');
    if (req.method === 'PROPFIND' && /^\/u\d+\/$/.test(path)) return void res.writeHead(207).end(home(path));
    if (req.method === 'REPORT' && /^\/u\d+\/cal\d+\/$/.test(path)) {
      return void res.writeHead(207).end(multistatus('<d:sync-token>https://double.example/sync/1</d:sync-token>'));
    }
    if (req.method === 'PROPFIND') return void res.writeHead(207).end(multistatus(''));
    res.writeHead(404).end();
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening http://127.0.0.1:${(server.address() as { port: number }).port}/\n`);
});
