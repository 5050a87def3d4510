/** GET /api/calendars: a bare array across every connected account (the SDKs expect an array). */
import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import { requireAuth, type Access } from '../http/bearer-guard.js';
import type { CalendarDirectory } from '../application/calendar-directory.js';

export function registerCalendarsRoute(app: FastifyInstance, deps: { guard: (a: Access) => preHandlerAsyncHookHandler; directory: CalendarDirectory }): void {
  app.get(
    '/api/calendars',
    {
      preHandler: deps.guard('calendar-list'),
      schema: {
        tags: ['Calendars'],
        summary: 'Calendars of every connected account',
        description: 'When some accounts fail and others answer, the array holds what answered and the header Almanac-Failed-Accounts names the others.',
        security: [{ bearer: [] }],
        response: {
          200: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                provider: { type: 'string' },
                id: { type: 'string' },
                title: { type: 'string' },
                timeZone: { type: 'string', description: 'IANA zone: the calendar’s own, else its account’s, else UTC' },
                color: { type: 'string', description: '#RRGGBB: the provider’s colour, else a stable default derived from the calendar id' },
                description: { type: 'string', description: 'Empty when the provider has none' },
                readOnly: { type: 'boolean', description: 'Almanac extra: this account may read but not write the calendar' },
                original: {},
              },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const auth = requireAuth(request);
      const { listed, failures } = await deps.directory.list(auth.userId, request.log);
      if (failures.length > 0 && listed.length === 0) throw failures[0]!.error;
      if (failures.length > 0) {
        reply.header('Almanac-Failed-Accounts', failures.map((f) => `${f.account.provider}:${encodeURIComponent(f.account.accountId)}:${f.error.code}`).join(', '));
      }
      return listed.flatMap((l) => l.calendars);
    },
  );
}
