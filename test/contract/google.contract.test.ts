/**
 * The provider contract for the Google adapter, against the Google emulator
 * (test/emulators/google, written from Google's documentation). Events are seeded as
 * Google stores them (a master with `recurrence` lines, exceptions as instances of
 * their own), read back from the emulator's store, and expanded by the emulator.
 */
import assert from 'node:assert/strict';
import type { EventResource } from '../emulators/google/emulator-store.js';
import { basicUtcStamp, rfc3339InZone, wallToInstant } from '../emulators/google/emulator-time.js';
import { startGoogleHarness } from '../emulators/google/google-test-harness.js';
import { connectGoogle, googleEnv } from '../support/google-connect.js';
import type { ContractFixture, SeedEvent, ServerOccurrence, WallTime } from './contract-fixture.js';
import { runProviderContract } from './provider-contract.js';

function instant(wall: WallTime, zone: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(wall);
  if (!m) throw new Error(`not a wall time: ${wall}`);
  return wallToInstant({ y: +m[1]!, mo: +m[2]!, d: +m[3]!, h: +m[4]!, mi: +m[5]!, s: 0 }, zone);
}

/** Google's EventDateTime for a seed time. */
function eventTime(wall: WallTime, event: SeedEvent): EventResource['start'] {
  return event.allDay ? { date: wall } : { dateTime: rfc3339InZone(instant(wall, event.timeZone), event.timeZone), timeZone: event.timeZone };
}

/** The suffix Google gives an instance id: the original start in UTC, or the date for all-day series. */
function instanceStamp(wall: WallTime, event: SeedEvent): string {
  return event.allDay ? wall.replace(/-/g, '') : basicUtcStamp(instant(wall, event.timeZone));
}

function recurrenceLines(event: SeedEvent): string[] | undefined {
  if (!event.rrule) return undefined;
  const exdates = (event.exdates ?? []).map((wall) =>
    event.allDay ? `EXDATE;VALUE=DATE:${wall.replace(/-/g, '')}` : `EXDATE;TZID=${event.timeZone}:${wall.replace(/[-:]/g, '')}00`,
  );
  return [`RRULE:${event.rrule}`, ...exdates];
}

function wireTime(time: EventResource['start']): string {
  if (time?.date) return time.date;
  return new Date(Date.parse(time?.dateTime ?? '')).toISOString();
}

async function startGoogleFixture(): Promise<ContractFixture> {
  const h = await startGoogleHarness({ email: 'contract@example.com', timeZone: 'Europe/Berlin' });
  const { emulator, email } = h;
  return {
    name: 'google on the emulator',
    provider: h.provider as unknown as ContractFixture['provider'],
    ctx: h.ctx as unknown as ContractFixture['ctx'],

    async createCalendar(title, options = {}) {
      return emulator.addCalendar(email, { summary: title, timeZone: options.timeZone ?? 'Europe/Berlin' }).id;
    },

    async seed(calendarId, event) {
      const recurrence = recurrenceLines(event);
      const master = emulator.seedEvent(calendarId, {
        summary: event.title,
        start: eventTime(event.start, event),
        end: eventTime(event.end, event),
        ...(recurrence ? { recurrence } : {}),
      });
      const exception = (original: WallTime, fields: Partial<EventResource>): void => {
        emulator.seedEvent(calendarId, {
          id: `${master.id}_${instanceStamp(original, event)}`,
          recurringEventId: master.id,
          originalStartTime: eventTime(original, event),
          summary: event.title,
          ...fields,
        });
      };
      for (const moved of event.moved ?? []) {
        exception(moved.original, { summary: moved.title ?? event.title, start: eventTime(moved.start, event), end: eventTime(moved.end, event) });
      }
      for (const original of event.cancelled ?? []) exception(original, { status: 'cancelled' });
      return { eventId: master.id };
    },

    snapshot: async (calendarId) => emulator.store.stored(calendarId).sort((a, b) => a.id.localeCompare(b.id)),

    async serverOccurrences(calendarId, range): Promise<ServerOccurrence[]> {
      return emulator.store
        .list(calendarId, { singleEvents: true, showDeleted: false, timeMin: range.start.getTime(), timeMax: range.end.getTime() })
        .sort((a, b) => a.startMs - b.startMs)
        .map((item) => item.build())
        .filter((e) => e.status !== 'cancelled')
        .map((e) => ({ title: e.summary ?? '', start: wireTime(e.start), end: wireTime(e.end) }));
    },

    async renameOnServer(calendarId, seeded, title) {
      emulator.store.patch(calendarId, seeded.eventId, { summary: title }, { conferenceDataVersion: 0, actorEmail: email });
    },

    async removeOnServer(calendarId, seeded) {
      emulator.store.delete(calendarId, seeded.eventId, undefined);
    },

    readOnly: {
      async make(calendarId) {
        const entry = emulator.addUser(email).calendarList.find((e) => e.calendarId === calendarId);
        assert.ok(entry, `calendar ${calendarId} is in the list`);
        entry.accessRole = 'reader';
      },
    },

    serverEnv: () => googleEnv(emulator),

    async connect(server, session) {
      emulator.setConsent({ action: 'grant-all' }, email);
      const back = await connectGoogle(server, session);
      assert.equal(back.status, 303, await back.text());
    },

    close: () => h.close(),
  };
}

runProviderContract('google on the emulator', startGoogleFixture);
