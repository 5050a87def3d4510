/**
 * What the provider contract suite needs from one adapter under test. A fixture owns
 * a real (or emulated) provider and knows its raw form: it seeds events the way the
 * provider stores them and reads them back from the provider's side, never through
 * Almanac, so the suite can check what an adapter really did. A new adapter is one
 * fixture file that implements this and calls `runProviderContract`.
 */
import type { CalendarProvider, ProviderContext } from '../../src/providers/types.js';
import type { ConnectSessionHandle } from '../support/connect-flow.js';
import type { TestServer } from '../support/server.js';

/**
 * A local wall time (`YYYY-MM-DDTHH:MM`, read in the event's `timeZone`) or, for
 * all-day events, a date (`YYYY-MM-DD`).
 */
export type WallTime = string;

/** An event as the provider would store it, described without any provider's syntax. */
export interface SeedEvent {
  title: string;
  start: WallTime;
  /** All-day events: the exclusive end date. */
  end: WallTime;
  allDay?: boolean;
  /** IANA zone of the wall times (ignored for all-day events). */
  timeZone: string;
  /** An RFC 5545 rule without the `RRULE:` prefix (`FREQ=DAILY;COUNT=10`). */
  rrule?: string;
  /** Original starts removed from the series by EXDATE. */
  exdates?: WallTime[];
  /** Occurrences moved to another time (and optionally retitled), by original start. */
  moved?: Array<{ original: WallTime; start: WallTime; end: WallTime; title?: string }>;
  /** Occurrences cancelled by an exception of their own (CalDAV STATUS:CANCELLED override, Google cancelled instance). */
  cancelled?: WallTime[];
}

export interface SeededEvent {
  /** The adapter's id of the single event or the series. */
  eventId: string;
}

/**
 * One occurrence as the provider itself sees its stored data: `start`/`end` ISO
 * instants for timed events, dates (`YYYY-MM-DD`, end exclusive) for all-day ones.
 */
export interface ServerOccurrence {
  title: string;
  start: string;
  end: string;
}

export interface ContractFixture {
  /** e.g. `caldav on radicale`. */
  readonly name: string;
  readonly provider: CalendarProvider;
  readonly ctx: ProviderContext;
  /** A calendar of the fixture's account; `timeZone` where the provider keeps one per calendar. */
  createCalendar(title: string, options?: { timeZone?: string }): Promise<string>;
  seed(calendarId: string, event: SeedEvent): Promise<SeededEvent>;
  /** Everything the provider stores for the calendar, ETags included: equal before and after means nothing changed. */
  snapshot(calendarId: string): Promise<unknown>;
  /** The calendar's occurrences overlapping [start, end) as the provider's side computes them, in start order. */
  serverOccurrences(calendarId: string, range: { start: Date; end: Date }): Promise<ServerOccurrence[]>;
  /** Another client renames the event on the provider's side, so versions read before are stale. */
  renameOnServer(calendarId: string, seeded: SeededEvent, title: string): Promise<void>;
  /** Another client deletes the event (a single event, or a whole series) on the provider's side. */
  removeOnServer(calendarId: string, seeded: SeededEvent): Promise<void>;
  /**
   * From now on the account may read the calendar but not write to it; or, when the
   * provider (server) offers no such thing, the reason as a skip message.
   */
  readonly readOnly: { make(calendarId: string): Promise<void> } | string;
  /** Environment for an Almanac server that can connect this fixture's account. */
  serverEnv(): Record<string, string>;
  /** Connects the fixture's account in a connect session of that server, as a user would. */
  connect(server: TestServer, session: ConnectSessionHandle): Promise<void>;
  close(): Promise<void>;
}

/**
 * Cases an adapter is known to fail today, by test name, with the reason: reported as
 * `todo` while they fail, failing once the adapter keeps them (remove the entry then).
 */
export type KnownGaps = Readonly<Record<string, string>>;
