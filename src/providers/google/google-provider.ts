/** The Google Calendar adapter behind Almanac's provider seam (types.ts). */
import type { Calendar } from '../../domain/calendar.js';
import type { CalendarProvider, ChangeFeed, OAuthCredentials, PushChannels } from '../types.js';
import { createGoogleChangeFeed } from './google-change-feed.js';
import { createGooglePushChannels } from './google-push-channels.js';
import { ProviderError } from '../types.js';
import { GoogleCalendarApi } from './google-calendar-api.js';
import { fallbackZoneOf, toCalendar } from './google-calendar-mapper.js';
import type { GoogleCalendarListEntry } from './google-wire-types.js';
import { GoogleEventEditor } from './google-event-editor.js';
import { listGoogleEvents } from './google-event-lister.js';
import { GoogleHttp } from './google-http.js';
import type { GoogleHttpDeps } from './google-http.js';
import type { GoogleSettings } from './google-settings.js';

/** Against a server that never stops handing out page tokens (250 per page: 250,000 calendars). */
const MAX_CALENDAR_PAGES = 1000;

export type GoogleProvider = CalendarProvider<OAuthCredentials> & { changes: ChangeFeed<OAuthCredentials>; push: PushChannels<OAuthCredentials> };

export function createGoogleProvider(settings: GoogleSettings, deps?: Partial<GoogleHttpDeps>): GoogleProvider {
  const api = new GoogleCalendarApi(new GoogleHttp(settings, deps));
  const editor = new GoogleEventEditor(api);

  return {
    id: 'google',

    async listCalendars(ctx): Promise<Calendar[]> {
      const entries: GoogleCalendarListEntry[] = [];
      let pageToken: string | undefined;
      let pages = 0;
      do {
        if (++pages > MAX_CALENDAR_PAGES) throw new ProviderError('UNKNOWN', 'Google kept returning more pages of calendars');
        const page = await api.listCalendarList(ctx, pageToken);
        for (const entry of page.items ?? []) {
          if (!entry.deleted && entry.id) entries.push(entry);
        }
        pageToken = page.nextPageToken;
      } while (pageToken);
      // The primary calendar may be on any page: map once every entry is in.
      const zone = fallbackZoneOf(entries);
      return entries.map((entry) => toCalendar(entry, zone));
    },

    listEvents: (ctx, q) => listGoogleEvents(api, ctx, q),
    createEvent: (ctx, input) => editor.create(ctx, input),
    updateEvent: (ctx, ref, patch, mode) => editor.update(ctx, ref, patch, mode),
    deleteEvent: (ctx, ref, mode) => editor.remove(ctx, ref, mode),
    changes: createGoogleChangeFeed(api),
    push: createGooglePushChannels(api),
  };
}
