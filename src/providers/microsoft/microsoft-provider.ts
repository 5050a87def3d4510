/** The Microsoft Graph calendar adapter behind Almanac's provider seam (types.ts). */
import type { CalendarProvider, ChangeFeed, OAuthCredentials, PushChannels } from '../types.js';
import { createGraphPushChannels } from './graph-push-channels.js';
import { createGraphChangeFeed } from './graph-change-feed.js';
import { GraphCalendarApi } from './graph-calendar-api.js';
import { toCalendar } from './graph-calendar-mapper.js';
import { GraphEventEditor } from './graph-event-editor.js';
import { listGraphEvents } from './graph-event-lister.js';
import { GraphHttp } from './graph-http.js';
import type { GraphHttpDeps } from './graph-http.js';
import type { MicrosoftSettings } from './microsoft-settings.js';

export type MicrosoftProvider = CalendarProvider<OAuthCredentials> & { changes: ChangeFeed<OAuthCredentials>; push: PushChannels<OAuthCredentials> };

export function createMicrosoftProvider(settings: MicrosoftSettings, deps?: Partial<GraphHttpDeps>): MicrosoftProvider {
  const api = new GraphCalendarApi(new GraphHttp(settings, deps));
  const editor = new GraphEventEditor(api);
  return {
    id: 'microsoft',
    // Graph calendars carry no zone (the mailbox's needs MailboxSettings.Read): times are UTC on the wire anyway.
    listCalendars: async (ctx) => (await api.listCalendars(ctx)).map((c) => toCalendar(c, 'UTC')),
    listEvents: (ctx, q) => listGraphEvents(api, ctx, q),
    createEvent: (ctx, input) => editor.create(ctx, input),
    updateEvent: (ctx, ref, patch, mode) => editor.update(ctx, ref, patch, mode),
    deleteEvent: (ctx, ref, mode) => editor.remove(ctx, ref, mode),
    changes: createGraphChangeFeed(api),
    push: createGraphPushChannels(api),
  };
}
