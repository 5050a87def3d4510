/** A new calendar object resource for a create request. */
import { randomUUID } from 'node:crypto';
import ICAL from 'ical.js';
import type { EventInput } from '../../domain/calendar.js';
import { applyEventPatch, applyRecurrence, type WriteContext } from './apply-event-patch.js';
import { newVcalendar } from './calendar-object.js';
import { timeAt } from './ics-time.js';

export function buildEventObject(input: EventInput, ctx: Omit<WriteContext, 'vcalendar'>): { uid: string; vcalendar: ICAL.Component } {
  const uid = randomUUID();
  const vcalendar = newVcalendar();
  const vevent = new ICAL.Component('vevent');
  vcalendar.addSubcomponent(vevent);
  vevent.updatePropertyWithValue('uid', uid);
  vevent.updatePropertyWithValue('created', timeAt(ctx.now.getTime(), { kind: 'utc' }, null));
  const { calendarId: _calendarId, recurrence, ...fields } = input;
  applyEventPatch(vevent, fields, { ...ctx, vcalendar });
  applyRecurrence(vevent, recurrence);
  vevent.updatePropertyWithValue('sequence', 0);
  return { uid, vcalendar };
}
