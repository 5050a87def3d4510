/** OpenAPI descriptions of the events routes (validation itself is in events/parse-*.ts). */
const providerEnum = { type: 'string', enum: ['google', 'microsoft', 'apple', 'caldav'] } as const;

const calendarEvent = {
  type: 'object',
  additionalProperties: true,
  properties: {
    provider: providerEnum,
    id: { type: 'string' },
    calendarId: { type: 'string' },
    title: { type: 'string' },
    description: { type: 'string' },
    start: { type: 'string', format: 'date-time' },
    end: { type: 'string', format: 'date-time' },
    allDay: { type: 'boolean' },
    recurringEventId: { type: 'string' },
    color: { type: 'string' },
    location: { type: 'string' },
    attendees: { type: 'array', items: { type: 'object', properties: { email: { type: 'string' }, status: { type: 'string' }, organizer: { type: 'boolean' } } } },
    custom: { type: 'object', additionalProperties: true },
    conference: { type: 'string' },
    conferenceData: { type: 'object', additionalProperties: true },
    availability: { type: 'string', enum: ['busy', 'free'] },
    privacy: { type: 'string', enum: ['public', 'private', 'confidential'] },
    status: { type: 'string', enum: ['confirmed', 'tentative', 'cancelled'] },
    lastModified: { type: 'string' },
    link: { type: 'string' },
    recurrence: { type: 'object', additionalProperties: true },
    original: {},
  },
} as const;

const recurrence = {
  type: 'object',
  properties: {
    frequency: { type: 'string', enum: ['DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'] },
    interval: { type: 'integer' },
    count: { type: 'integer' },
    until: { type: 'string', description: 'YYYYMMDDTHHMMSSZ; not with count' },
    byDay: { type: 'array', items: { type: 'string' } },
    byMonthDay: { type: 'array', items: { type: 'integer' } },
    byMonth: { type: 'array', items: { type: 'integer' } },
  },
} as const;

const writeFields = {
  provider: providerEnum,
  calendarId: { type: 'string' },
  title: { type: 'string' },
  start: { type: 'string' },
  end: { type: 'string' },
  description: { type: 'string' },
  location: { type: 'string' },
  allDay: { type: 'boolean' },
  timeZone: { type: 'string', description: 'IANA zone to write times in (Almanac extra)' },
  attendees: { type: 'array', items: { type: 'string' } },
  recurrence,
  custom: { type: 'object', additionalProperties: true },
  conference: { type: 'string' },
  conferenceData: { type: 'object', properties: { provider: { type: 'string' }, autoGenerate: { type: 'boolean' } } },
  availability: { type: 'string', enum: ['busy', 'free'] },
  privacy: { type: 'string', enum: ['public', 'private', 'confidential'] },
  status: { type: 'string', enum: ['confirmed', 'tentative', 'cancelled'] },
} as const;

const writeResponse = { 200: { ...calendarEvent, properties: { success: { type: 'boolean' }, ...calendarEvent.properties, event: calendarEvent } } };
const security = [{ bearer: [] }];
const modeEnum = { type: 'string', enum: ['this', 'following', 'all'] } as const;

export const eventSchemas = {
  list: {
    tags: ['Events'],
    summary: 'Events of every connected calendar in a range, merged and sorted by start',
    security,
    querystring: {
      type: 'object',
      properties: {
        pageSize: { type: 'integer', default: 250, maximum: 1000 },
        start: { type: 'string' },
        end: { type: 'string' },
        calendarIds: { type: 'string', description: 'JSON object per provider, e.g. {"google":["a@b.com"],"caldav":[]}' },
        nextPageToken: { type: 'string' },
        singleEvents: { type: 'boolean', default: true },
      },
    },
    response: {
      200: {
        type: 'object',
        properties: {
          events: { type: 'array', items: calendarEvent },
          pageSize: { type: 'integer' },
          nextPageToken: { type: 'string' },
          errors: { type: 'array', items: { type: 'object', properties: { provider: { type: 'string' }, account: { type: 'string' }, code: { type: 'string' }, message: { type: 'string' } } } },
        },
      },
    },
  },
  create: { tags: ['Events'], summary: 'Create an event (single or recurring)', security, body: { type: 'object', required: ['provider', 'calendarId', 'title', 'start', 'end'], properties: writeFields }, response: writeResponse },
  update: {
    tags: ['Events'],
    summary: 'Update an event; omitted fields stay unchanged',
    security,
    body: { type: 'object', required: ['provider', 'calendarId', 'eventId'], properties: { ...writeFields, eventId: { type: 'string' }, recurringEventId: { type: 'string' }, updateMode: modeEnum } },
    response: writeResponse,
  },
  remove: {
    tags: ['Events'],
    summary: 'Delete an event, one occurrence, or the rest of a series',
    security,
    querystring: { type: 'object', properties: { provider: providerEnum, calendarId: { type: 'string' }, eventId: { type: 'string' }, recurringEventId: { type: 'string' }, deleteMode: modeEnum } },
    response: { 200: { type: 'object', properties: { success: { type: 'boolean' }, message: { type: 'string' } } } },
  },
};
