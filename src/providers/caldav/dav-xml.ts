/**
 * WebDAV XML in and out. Servers choose their own prefixes (`D:`, `d:`, none, `ns0:`),
 * so every lookup goes by namespace URI and local name, never by prefix.
 */
import { DOMParser, onErrorStopParsing, type Element, type Node } from '@xmldom/xmldom';

export const NS = {
  DAV: 'DAV:',
  CALDAV: 'urn:ietf:params:xml:ns:caldav',
  CALSERVER: 'http://calendarserver.org/ns/',
  APPLE_ICAL: 'http://apple.com/ns/ical/',
} as const;

/** The prefixes this module writes; parsing never relies on them. */
const PREFIX: Record<string, string> = {
  [NS.DAV]: 'd',
  [NS.CALDAV]: 'c',
  [NS.CALSERVER]: 'cs',
  [NS.APPLE_ICAL]: 'ic',
};

export interface PropName {
  ns: string;
  name: string;
}

export const prop = {
  resourcetype: { ns: NS.DAV, name: 'resourcetype' },
  displayname: { ns: NS.DAV, name: 'displayname' },
  getetag: { ns: NS.DAV, name: 'getetag' },
  syncToken: { ns: NS.DAV, name: 'sync-token' },
  currentUserPrincipal: { ns: NS.DAV, name: 'current-user-principal' },
  currentUserPrivilegeSet: { ns: NS.DAV, name: 'current-user-privilege-set' },
  calendarHomeSet: { ns: NS.CALDAV, name: 'calendar-home-set' },
  calendarDescription: { ns: NS.CALDAV, name: 'calendar-description' },
  calendarTimezone: { ns: NS.CALDAV, name: 'calendar-timezone' },
  calendarData: { ns: NS.CALDAV, name: 'calendar-data' },
  supportedComponents: { ns: NS.CALDAV, name: 'supported-calendar-component-set' },
  getctag: { ns: NS.CALSERVER, name: 'getctag' },
  calendarColor: { ns: NS.APPLE_ICAL, name: 'calendar-color' },
} satisfies Record<string, PropName>;

/** The server's answer was not the XML it promised. */
export class DavXmlError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DavXmlError';
  }
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const XMLNS_DECLARATIONS = Object.entries(PREFIX)
  .map(([uri, p]) => `xmlns:${p}="${uri}"`)
  .join(' ');

function qualified(p: PropName): string {
  const prefix = PREFIX[p.ns];
  if (!prefix) throw new Error(`No prefix registered for namespace ${p.ns}`);
  return `${prefix}:${p.name}`;
}

export function propfindBody(props: readonly PropName[]): string {
  const inner = props.map((p) => `<${qualified(p)}/>`).join('');
  return `<?xml version="1.0" encoding="utf-8"?><d:propfind ${XMLNS_DECLARATIONS}><d:prop>${inner}</d:prop></d:propfind>`;
}

/** `YYYYMMDDTHHMMSSZ`, the only form RFC 4791 time-range accepts. */
export function formatUtcStamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** RFC 4791 §7.8 calendar-query for VEVENTs overlapping [start, end), with their data. */
export function calendarQueryBody(range: { start: Date; end: Date }): string {
  return (
    `<?xml version="1.0" encoding="utf-8"?><c:calendar-query ${XMLNS_DECLARATIONS}>` +
    '<d:prop><d:getetag/><c:calendar-data/></d:prop>' +
    '<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">' +
    `<c:time-range start="${formatUtcStamp(range.start)}" end="${formatUtcStamp(range.end)}"/>` +
    '</c:comp-filter></c:comp-filter></c:filter></c:calendar-query>'
  );
}

/**
 * calendar-query for the objects whose VEVENT has `property` (RRULE or RDATE), without
 * their data: an empty prop-filter matches when the property is defined (RFC 4791
 * §9.7.2). No time-range, so a server that misjudges recurring objects cannot hide them.
 */
export function recurringRefsQueryBody(property: 'RRULE' | 'RDATE'): string {
  return (
    `<?xml version="1.0" encoding="utf-8"?><c:calendar-query ${XMLNS_DECLARATIONS}>` +
    '<d:prop><d:getetag/></d:prop>' +
    '<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">' +
    `<c:prop-filter name="${property}"/>` +
    '</c:comp-filter></c:comp-filter></c:filter></c:calendar-query>'
  );
}

/** RFC 4791 §7.9 calendar-multiget: the data of the named resources (hrefs as paths of the calendar's origin). */
export function calendarMultigetBody(hrefs: readonly string[]): string {
  const refs = hrefs.map((href) => `<d:href>${escapeXml(new URL(href).pathname)}</d:href>`).join('');
  return (
    `<?xml version="1.0" encoding="utf-8"?><c:calendar-multiget ${XMLNS_DECLARATIONS}>` +
    `<d:prop><d:getetag/><c:calendar-data/></d:prop>${refs}</c:calendar-multiget>`
  );
}

/** calendar-query that selects objects by UID (used when the object's href is not the one we would have chosen). */
export function uidQueryBody(uid: string): string {
  return (
    `<?xml version="1.0" encoding="utf-8"?><c:calendar-query ${XMLNS_DECLARATIONS}>` +
    '<d:prop><d:getetag/><c:calendar-data/></d:prop>' +
    '<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">' +
    `<c:prop-filter name="UID"><c:text-match collation="i;octet">${escapeXml(uid)}</c:text-match></c:prop-filter>` +
    '</c:comp-filter></c:comp-filter></c:filter></c:calendar-query>'
  );
}

/**
 * RFC 6578 sync-collection: the members changed since `token` (all members for an empty
 * token) with their ETags; removed members come back as 404 responses.
 */
export function syncCollectionBody(token: string | undefined): string {
  return (
    `<?xml version="1.0" encoding="utf-8"?><d:sync-collection ${XMLNS_DECLARATIONS}>` +
    `<d:sync-token>${token === undefined ? '' : escapeXml(token)}</d:sync-token><d:sync-level>1</d:sync-level>` +
    '<d:prop><d:getetag/></d:prop></d:sync-collection>'
  );
}

/** RFC 4791 §7.9 calendar-multiget: these resources' data and ETags in one request. */
export function multigetBody(hrefs: readonly string[]): string {
  const list = hrefs.map((h) => `<d:href>${escapeXml(h)}</d:href>`).join('');
  return `<?xml version="1.0" encoding="utf-8"?><c:calendar-multiget ${XMLNS_DECLARATIONS}><d:prop><d:getetag/><c:calendar-data/></d:prop>${list}</c:calendar-multiget>`;
}

export interface MkcalendarOptions {
  displayName?: string;
  color?: string;
  description?: string;
  components?: string[];
  timezone?: string;
}

export function mkcalendarBody(options: MkcalendarOptions): string {
  const props: string[] = [];
  if (options.displayName !== undefined) props.push(`<d:displayname>${escapeXml(options.displayName)}</d:displayname>`);
  if (options.color !== undefined) props.push(`<ic:calendar-color>${escapeXml(options.color)}</ic:calendar-color>`);
  if (options.description !== undefined) {
    props.push(`<c:calendar-description>${escapeXml(options.description)}</c:calendar-description>`);
  }
  if (options.timezone !== undefined) props.push(`<c:calendar-timezone>${escapeXml(options.timezone)}</c:calendar-timezone>`);
  if (options.components) {
    const comps = options.components.map((c) => `<c:comp name="${escapeXml(c)}"/>`).join('');
    props.push(`<c:supported-calendar-component-set>${comps}</c:supported-calendar-component-set>`);
  }
  return `<?xml version="1.0" encoding="utf-8"?><c:mkcalendar ${XMLNS_DECLARATIONS}><d:set><d:prop>${props.join('')}</d:prop></d:set></c:mkcalendar>`;
}

/**
 * One spelling per URL, so ids compare equal however a server or a caller encoded
 * them (`/mail%40example.com/` and `/mail@example.com/` are the same collection).
 */
export function canonicalUrl(input: string | URL): string {
  const url = new URL(input);
  url.pathname = url.pathname
    .split('/')
    .map((segment) => {
      let decoded = segment;
      try {
        decoded = decodeURIComponent(segment);
      } catch {
        return segment;
      }
      return encodeURIComponent(decoded).replace(/%(40|3A|21|24|26|27|28|29|2A|2B|2C|3B|3D)/gi, (_, hex: string) =>
        String.fromCharCode(parseInt(hex, 16)),
      );
    })
    .join('/');
  return url.toString();
}

/** Whether `url` is `collection` itself or lies below it, on the same origin. */
export function isWithin(collection: string, url: string): boolean {
  const parent = new URL(canonicalUrl(collection));
  const child = new URL(canonicalUrl(url));
  const prefix = parent.pathname.endsWith('/') ? parent.pathname : `${parent.pathname}/`;
  return child.origin === parent.origin && (child.pathname === parent.pathname || child.pathname.startsWith(prefix));
}

export interface DavResponse {
  /** Absolute URL of the resource (resolved against the request URL). */
  href: string;
  /** Status of a `<d:response>` that has no propstat (e.g. 404 members in sync reports). */
  status?: number;
  /** Properties found with a 2xx propstat, keyed by `{namespace}local-name`. */
  props: Map<string, Element>;
}

export function propKey(p: PropName): string {
  return `{${p.ns}}${p.name}`;
}

function childElements(parent: Element, ns: string, name: string): Element[] {
  const out: Element[] = [];
  for (let n: Node | null = parent.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1) {
      const el = n as Element;
      if (el.namespaceURI === ns && el.localName === name) out.push(el);
    }
  }
  return out;
}

function allChildElements(parent: Element): Element[] {
  const out: Element[] = [];
  for (let n: Node | null = parent.firstChild; n; n = n.nextSibling) if (n.nodeType === 1) out.push(n as Element);
  return out;
}

export function textOf(el: Element | undefined): string | undefined {
  if (!el) return undefined;
  return el.textContent ?? undefined;
}

/** `HTTP/1.1 404 Not Found` → 404. */
function parseStatusLine(text: string | undefined): number | undefined {
  const match = /^\s*HTTP\/[\d.]+\s+(\d{3})/.exec(text ?? '');
  return match ? Number(match[1]) : undefined;
}

/** DAV answers nest a handful of levels; nothing legitimate comes near this. */
export const MAX_XML_DEPTH = 64;
/**
 * Elements plus attributes in one answer. xmldom spends tens of microseconds per end
 * tag (it builds a RegExp for each), so this bounds the CPU one answer can take
 * (a month of 20,000 events is about 150,000).
 */
export const MAX_XML_NODES = 250_000;

/**
 * One linear pass over the text before xmldom sees it: refuses DTDs (xmldom expands
 * no declared entities, but a DAV answer never needs a DOCTYPE, so none is accepted),
 * nesting deeper than MAX_XML_DEPTH and more than MAX_XML_NODES elements and
 * attributes. Malformed markup is left for the parser to report.
 */
export function checkXmlBounds(xml: string): void {
  let depth = 0;
  let nodes = 0;
  let at = 0;
  for (;;) {
    const lt = xml.indexOf('<', at);
    if (lt < 0) return;
    const next = xml.charCodeAt(lt + 1);
    if (next === 0x21 /* ! */) {
      const closer = xml.startsWith('<!--', lt) ? '-->' : xml.startsWith('<![CDATA[', lt) ? ']]>' : undefined;
      if (!closer) throw new DavXmlError('The server answered with a document type declaration, which DAV answers never contain');
      const end = xml.indexOf(closer, lt + 4);
      if (end < 0) return;
      at = end + closer.length;
      continue;
    }
    if (next === 0x3f /* ? */) {
      const end = xml.indexOf('?>', lt + 2);
      if (end < 0) return;
      at = end + 2;
      continue;
    }
    if (next === 0x2f /* / */) {
      depth -= 1;
      at = lt + 2;
      continue;
    }
    // A start tag: find its `>` outside quoted attribute values, counting the values.
    let quote = 0;
    let i = lt + 1;
    for (; i < xml.length; i++) {
      const c = xml.charCodeAt(i);
      if (quote !== 0) {
        if (c === quote) quote = 0;
      } else if (c === 0x22 || c === 0x27) {
        quote = c;
        nodes += 1;
      } else if (c === 0x3e /* > */) {
        break;
      }
    }
    if (i >= xml.length) return;
    nodes += 1;
    if (nodes > MAX_XML_NODES) throw new DavXmlError(`The server's answer has more than ${MAX_XML_NODES} XML elements and attributes`);
    if (xml.charCodeAt(i - 1) !== 0x2f /* / */) {
      depth += 1;
      if (depth > MAX_XML_DEPTH) throw new DavXmlError(`The server's answer nests XML deeper than ${MAX_XML_DEPTH} levels`);
    }
    at = i + 1;
  }
}

function parseXml(xml: string): Element {
  checkXmlBounds(xml);
  let root: Element | null;
  try {
    root = new DOMParser({ onError: onErrorStopParsing }).parseFromString(xml, 'text/xml').documentElement;
  } catch (err) {
    throw new DavXmlError('The server answered with malformed XML', { cause: err });
  }
  if (!root) throw new DavXmlError('The server answered with an empty XML document');
  return root;
}

/** The top-level `DAV:sync-token` of a sync-collection multistatus, when present. */
export function multistatusSyncToken(xml: string): string | undefined {
  const root = parseXml(xml);
  return textOf(childElements(root, NS.DAV, 'sync-token')[0])?.trim() || undefined;
}

/**
 * Parses a `207 Multi-Status` body. `base` is the URL the request went to (after
 * redirects); hrefs are resolved against it, which handles both path-absolute hrefs
 * and full URLs on another host.
 */
export function parseMultistatus(xml: string, base: string): DavResponse[] {
  const root = parseXml(xml);
  if (root.namespaceURI !== NS.DAV || root.localName !== 'multistatus') {
    throw new DavXmlError(`Expected a DAV:multistatus document, got ${root.localName ?? 'unknown'}`);
  }
  const responses: DavResponse[] = [];
  for (const response of childElements(root, NS.DAV, 'response')) {
    const href = textOf(childElements(response, NS.DAV, 'href')[0])?.trim();
    if (!href) continue;
    let absolute: string;
    try {
      absolute = canonicalUrl(new URL(href, base));
    } catch {
      throw new DavXmlError('The server returned an unusable href');
    }
    const props = new Map<string, Element>();
    for (const propstat of childElements(response, NS.DAV, 'propstat')) {
      const status = parseStatusLine(textOf(childElements(propstat, NS.DAV, 'status')[0]));
      if (status !== undefined && (status < 200 || status > 299)) continue;
      for (const propEl of childElements(propstat, NS.DAV, 'prop')) {
        for (const value of allChildElements(propEl)) props.set(`{${value.namespaceURI ?? ''}}${value.localName}`, value);
      }
    }
    const status = parseStatusLine(textOf(childElements(response, NS.DAV, 'status')[0]));
    responses.push({ href: absolute, ...(status === undefined ? {} : { status }), props });
  }
  return responses;
}

/** The `DAV:href` children of a property (current-user-principal, calendar-home-set), resolved. */
export function hrefsIn(el: Element | undefined, base: string): string[] {
  if (!el) return [];
  const out: string[] = [];
  for (const h of childElements(el, NS.DAV, 'href')) {
    const text = textOf(h)?.trim();
    if (!text) continue;
    try {
      out.push(canonicalUrl(new URL(text, base)));
    } catch {
      // An unusable href is skipped like a missing one.
    }
  }
  return out;
}

export function hasChild(el: Element | undefined, ns: string, name: string): boolean {
  return !!el && childElements(el, ns, name).length > 0;
}

/** The privileges of a `DAV:current-user-privilege-set` (RFC 3744 §5.4): `DAV:` names only, e.g. `read`, `write`. */
export function davPrivileges(el: Element): string[] {
  return childElements(el, NS.DAV, 'privilege').flatMap((p) =>
    allChildElements(p)
      .filter((c) => c.namespaceURI === NS.DAV && c.localName)
      .map((c) => c.localName as string),
  );
}

/** `<c:comp name="VEVENT"/>` names, upper-cased. */
export function componentNames(el: Element): string[] {
  return childElements(el, NS.CALDAV, 'comp')
    .map((c) => c.getAttribute('name')?.toUpperCase())
    .filter((n): n is string => !!n);
}

/**
 * The first failure a 207 Multi-Status answer to a write reports (some servers,
 * Xandikos among them, answer a refused PUT that way): its status and the
 * precondition names of its DAV:error. Undefined when every response succeeded.
 */
export function multistatusFailure(xml: string): { status: number; conditions: string[] } | undefined {
  const root = parseXml(xml);
  if (root.namespaceURI !== NS.DAV || root.localName !== 'multistatus') return { status: 500, conditions: [] };
  for (const response of childElements(root, NS.DAV, 'response')) {
    const statuses = [
      parseStatusLine(textOf(childElements(response, NS.DAV, 'status')[0])),
      ...childElements(response, NS.DAV, 'propstat').map((p) => parseStatusLine(textOf(childElements(p, NS.DAV, 'status')[0]))),
    ].filter((n): n is number => n !== undefined);
    const failed = statuses.find((n) => n < 200 || n > 299);
    if (failed === undefined) continue;
    const conditions = childElements(response, NS.DAV, 'error').flatMap((e) => allChildElements(e).map((c) => c.localName ?? ''));
    return { status: failed, conditions };
  }
  return undefined;
}

/** The precondition element names of a DAV:error body (`no-uid-conflict`, `need-privileges`…), if any. */
export function errorConditions(xml: string): string[] {
  try {
    const root = parseXml(xml);
    if (root.namespaceURI !== NS.DAV || root.localName !== 'error') return [];
    return allChildElements(root).map((el) => el.localName ?? '');
  } catch {
    return [];
  }
}
