/**
 * Creating, editing and deleting events:
 *   GET/POST /events/new, GET/POST /events/edit, POST /events/delete.
 * For an occurrence of a recurring event the user picks what the change applies to,
 * which becomes the API's `updateMode` / `deleteMode` (`this`, `following`, `all`).
 */
import { NotFoundError, ValidationError, type Calendar, type CalendarEvent, type EventUpdateData, type RecurrenceFrequency, type RecurrenceMode } from '@almanac/sdk';
import type { Context } from '../context.js';
import { HttpError } from '../context.js';
import { addDays, fromInputValue, midnight, monthOf, monthRange, toInputValue } from '../dates.js';
import { csrfField, href, html, type SafeHtml } from '../html.js';
import { isProvider } from './events.js';

const FREQUENCIES: readonly RecurrenceFrequency[] = ['DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'];
const MODES: readonly RecurrenceMode[] = ['this', 'following', 'all'];
const MODE_LABELS: Record<RecurrenceMode, string> = { this: 'Only this occurrence', following: 'This and following occurrences', all: 'All occurrences' };
const MAX_COUNT = 730;

/** What the form holds, as typed (strings), so a rejected form comes back as the user left it. */
interface FormValues {
  calendar: string;
  title: string;
  start: string;
  end: string;
  allDay: boolean;
  location: string;
  description: string;
  frequency: string;
  count: string;
  mode: RecurrenceMode;
}

/** Identifies the event being edited; `at` (its start) is the window used to find it again. */
interface EventRef {
  provider: CalendarEvent['provider'];
  calendarId: string;
  eventId: string;
  at: Date;
}

function readValues(form: URLSearchParams): FormValues {
  const text = (name: string) => (form.get(name) ?? '').trim();
  const mode = text('mode') as RecurrenceMode;
  return {
    calendar: text('calendar'),
    title: text('title'),
    start: text('start'),
    end: text('end'),
    allDay: form.get('allDay') === 'on',
    location: text('location'),
    description: (form.get('description') ?? '').replace(/\r\n/g, '\n'),
    frequency: text('frequency'),
    count: text('count'),
    mode: MODES.includes(mode) ? mode : 'this',
  };
}

function valuesOf(event: CalendarEvent): FormValues {
  return {
    calendar: `${event.provider}:${event.calendarId}`,
    title: event.title,
    start: toInputValue(event.start),
    // The form shows an all-day event's last day; the API's end is the day after (exclusive).
    end: toInputValue(event.allDay ? addDays(new Date(event.end), -1).toISOString() : event.end),
    allDay: event.allDay,
    location: event.location ?? '',
    description: event.description ?? '',
    frequency: '',
    count: '',
    mode: 'this',
  };
}

/** The times to send, or the problems with what was typed. */
function checkTimes(values: FormValues): { start: Date; end: Date } | { errors: string[] } {
  const errors: string[] = [];
  if (!values.title) errors.push('Enter a title.');
  if (values.title.length > 500) errors.push('The title is too long.');
  let start = fromInputValue(values.start);
  let end = fromInputValue(values.end);
  if (!start) errors.push('Enter a valid start.');
  if (!end) errors.push('Enter a valid end.');
  if (!start || !end) return { errors };
  if (values.allDay) {
    // All-day events run from midnight to midnight UTC, the end being exclusive.
    start = midnight(start);
    end = addDays(midnight(end), 1);
  }
  if (end <= start) errors.push('The end must be after the start.');
  return errors.length > 0 ? { errors } : { start, end };
}

function parseRef(params: URLSearchParams): EventRef {
  const provider = params.get('provider');
  const calendarId = params.get('calendarId');
  const eventId = params.get('eventId');
  const at = new Date(params.get('at') ?? '');
  if (!isProvider(provider) || !calendarId || !eventId || Number.isNaN(at.getTime())) {
    throw new HttpError(400, 'This link does not name an event.');
  }
  return { provider, calendarId, eventId, at };
}

/** There is no "get one event" call: list the event's calendar around its start and pick it out. */
async function findEvent(ctx: Context, ref: EventRef): Promise<CalendarEvent> {
  const events = ctx.almanac().events.iterate({
    start: addDays(ref.at, -1),
    end: addDays(ref.at, 1),
    calendarIds: { [ref.provider]: [ref.calendarId] },
  });
  for await (const event of events) {
    if (event.id === ref.eventId && event.calendarId === ref.calendarId) return event;
  }
  throw new HttpError(404, 'This event no longer exists.');
}

function modeChoice(name: string, legend: string, checked: RecurrenceMode): SafeHtml {
  return html`<fieldset class="${name}"><legend>${legend}</legend>${MODES.map(
    (mode) => html`<label><input type="radio" name="${name}" value="${mode}"${mode === checked ? html` checked` : ''}> ${MODE_LABELS[mode]}</label>`,
  )}</fieldset>`;
}

function renderForm(
  ctx: Context,
  opts: { values: FormValues; errors?: string[]; status?: number } & ({ mode: 'create'; calendars: Calendar[] } | { mode: 'edit'; event: CalendarEvent }),
): void {
  const { values } = opts;
  const errors = opts.errors?.length
    ? html`<div class="notice notice-error" role="alert"><p>Please fix the following:</p><ul>${opts.errors.map((e) => html`<li>${e}</li>`)}</ul></div>`
    : '';
  const writable = opts.mode === 'create' ? opts.calendars : [];
  const target =
    opts.mode === 'create'
      ? html`<label>Calendar
<select name="calendar" required>${writable.map(
          (c) => html`<option value="${c.provider}:${c.id}"${values.calendar === `${c.provider}:${c.id}` ? html` selected` : ''}>${c.title || c.id} (${c.provider})</option>`,
        )}</select></label>`
      : html`<input type="hidden" name="provider" value="${opts.event.provider}">
<input type="hidden" name="calendarId" value="${opts.event.calendarId}">
<input type="hidden" name="eventId" value="${opts.event.id}">
<input type="hidden" name="at" value="${opts.event.start}">`;
  const recurrence =
    opts.mode === 'create'
      ? html`<fieldset><legend>Repeat</legend>
<label>Frequency <select name="frequency"><option value="">Does not repeat</option>${FREQUENCIES.map(
          (f) => html`<option value="${f}"${values.frequency === f ? html` selected` : ''}>${f.toLowerCase()}</option>`,
        )}</select></label>
<label>Number of occurrences <input type="number" name="count" min="1" max="${MAX_COUNT}" value="${values.count || '5'}"></label>
</fieldset>`
      : opts.event.recurringEventId
        ? modeChoice('mode', 'Apply the changes to', values.mode)
        : '';

  const form = html`${errors}
<form method="post" action="${opts.mode === 'create' ? '/events/new' : '/events/edit'}" class="event-form">
${csrfField(ctx.session.csrf)}
${target}
<label>Title <input type="text" name="title" value="${values.title}" required maxlength="500"></label>
<label>Start (UTC) <input type="datetime-local" name="start" value="${values.start}" required></label>
<label>End (UTC) <input type="datetime-local" name="end" value="${values.end}" required></label>
<label><input type="checkbox" name="allDay"${values.allDay ? html` checked` : ''}> All day (only the dates count; the end date is the last day)</label>
<label>Location <input type="text" name="location" value="${values.location}" maxlength="500"></label>
<label>Description <textarea name="description" rows="4">${values.description}</textarea></label>
${recurrence}
<button type="submit">${opts.mode === 'create' ? 'Create event' : 'Save changes'}</button>
</form>`;

  let deletion: SafeHtml | string = '';
  if (opts.mode === 'edit') {
    const e = opts.event;
    deletion = html`<h2>Delete</h2>
<form method="post" action="/events/delete" class="delete-form">
${csrfField(ctx.session.csrf)}
<input type="hidden" name="provider" value="${e.provider}">
<input type="hidden" name="calendarId" value="${e.calendarId}">
<input type="hidden" name="eventId" value="${e.id}">
<input type="hidden" name="at" value="${e.start}">
${e.recurringEventId ? html`<input type="hidden" name="recurringEventId" value="${e.recurringEventId}">${modeChoice('deleteMode', 'Which occurrences', 'this')}` : ''}
<button type="submit">Delete event</button>
</form>`;
  }
  const back = html`<p><a href="${href('/events', { month: opts.mode === 'edit' ? monthOf(opts.event.start) : undefined })}">Back to events</a></p>`;
  ctx.sendPage(opts.mode === 'create' ? 'New event' : 'Edit event', html`${form}${deletion}${back}`, { status: opts.status ?? (opts.errors?.length ? 400 : 200) });
}

/** A sensible first slot: the next whole hour this month, else 09:00 on the month's first day. */
function defaultSlot(month: string | null): { start: string; end: string } {
  const range = monthRange(month);
  const now = new Date();
  let start = new Date(Date.UTC(range.start.getUTCFullYear(), range.start.getUTCMonth(), 1, 9));
  if (now >= range.start && now < range.end) {
    start = new Date(Math.ceil(now.getTime() / 3_600_000) * 3_600_000);
  }
  return { start: toInputValue(start.toISOString()), end: toInputValue(new Date(start.getTime() + 3_600_000).toISOString()) };
}

export async function newEventForm(ctx: Context): Promise<void> {
  ctx.requireConnected();
  const calendars = await ctx.almanac().calendars.list();
  if (calendars.length === 0) throw new HttpError(409, 'Connect a calendar before creating events.');
  const slot = defaultSlot(ctx.url.searchParams.get('month'));
  const values: FormValues = { calendar: '', title: '', ...slot, allDay: false, location: '', description: '', frequency: '', count: '', mode: 'this' };
  renderForm(ctx, { mode: 'create', calendars, values });
}

export async function createEvent(ctx: Context): Promise<void> {
  ctx.requireConnected();
  const values = readValues(await ctx.form());
  const client = ctx.almanac();
  const calendars = await client.calendars.list();
  const calendar = calendars.find((c) => `${c.provider}:${c.id}` === values.calendar);
  const checked = checkTimes(values);
  const errors = 'errors' in checked ? [...checked.errors] : [];
  if (!calendar) errors.push('Choose a calendar.');
  const frequency = FREQUENCIES.find((f) => f === values.frequency);
  const count = Number(values.count);
  if (frequency && !(Number.isInteger(count) && count >= 1 && count <= MAX_COUNT)) errors.push(`The number of occurrences must be from 1 to ${MAX_COUNT}.`);
  if (errors.length > 0 || !calendar || 'errors' in checked) return renderForm(ctx, { mode: 'create', calendars, values, errors });

  try {
    const created = await client.events.create({
      provider: calendar.provider,
      calendarId: calendar.id,
      title: values.title,
      start: checked.start,
      end: checked.end,
      allDay: values.allDay,
      ...(values.location ? { location: values.location } : {}),
      ...(values.description ? { description: values.description } : {}),
      ...(frequency ? { recurrence: { frequency, count } } : {}),
    });
    ctx.redirect(href('/events', { month: monthOf(created.start), notice: 'created' }));
  } catch (err) {
    // The server's word on the data (e.g. a provider limit) belongs next to the form.
    if (err instanceof ValidationError || err instanceof NotFoundError) return renderForm(ctx, { mode: 'create', calendars, values, errors: [err.message] });
    throw err;
  }
}

export async function editEventForm(ctx: Context): Promise<void> {
  ctx.requireConnected();
  const event = await findEvent(ctx, parseRef(ctx.url.searchParams));
  renderForm(ctx, { mode: 'edit', event, values: valuesOf(event) });
}

export async function updateEvent(ctx: Context): Promise<void> {
  ctx.requireConnected();
  const form = await ctx.form();
  const values = readValues(form);
  // Fetched again rather than trusted from hidden fields: the event may have changed meanwhile.
  const event = await findEvent(ctx, parseRef(form));
  const checked = checkTimes(values);
  if ('errors' in checked) return renderForm(ctx, { mode: 'edit', event, values, errors: checked.errors });

  // Only what changed is sent: omitted fields stay as they are, which matters for a
  // series, where re-sending this occurrence's times would move every occurrence.
  const changes: Partial<EventUpdateData> = {};
  if (values.title !== event.title) changes.title = values.title;
  if (values.location !== (event.location ?? '')) changes.location = values.location;
  if (values.description !== (event.description ?? '')) changes.description = values.description;
  if (values.allDay !== event.allDay || checked.start.getTime() !== Date.parse(event.start) || checked.end.getTime() !== Date.parse(event.end)) {
    Object.assign(changes, { start: checked.start, end: checked.end, allDay: values.allDay });
  }
  if (Object.keys(changes).length === 0) return ctx.redirect(href('/events', { month: monthOf(event.start), notice: 'unchanged' }));

  try {
    const updated = await ctx.almanac().events.update({
      provider: event.provider,
      calendarId: event.calendarId,
      eventId: event.id,
      ...(event.recurringEventId ? { recurringEventId: event.recurringEventId, updateMode: values.mode } : {}),
      ...changes,
    });
    ctx.redirect(href('/events', { month: monthOf(updated.start ?? event.start), notice: 'updated' }));
  } catch (err) {
    if (err instanceof ValidationError) return renderForm(ctx, { mode: 'edit', event, values, errors: [err.message] });
    throw err;
  }
}

export async function deleteEvent(ctx: Context): Promise<void> {
  ctx.requireConnected();
  const form = await ctx.form();
  const ref = parseRef(form);
  const recurringEventId = form.get('recurringEventId') || undefined;
  const mode = MODES.find((m) => m === form.get('deleteMode'));
  try {
    await ctx.almanac().events.delete({
      provider: ref.provider,
      calendarId: ref.calendarId,
      eventId: ref.eventId,
      // Without a mode the API removes the whole series; for an occurrence the user chose.
      ...(recurringEventId ? { recurringEventId, deleteMode: mode ?? 'this' } : {}),
    });
  } catch (err) {
    if (err instanceof NotFoundError) throw new HttpError(404, 'This event no longer exists.');
    throw err;
  }
  ctx.redirect(href('/events', { month: monthOf(ref.at.toISOString()), notice: 'deleted' }));
}
