/**
 * The `application/json` body parser. A request that says `Content-Type:
 * application/json` but carries zero bytes has no body: the official Mobiscroll SDKs
 * send exactly that on `DELETE /api/event` (parameters in the query) and on other calls
 * whose body is optional. Treating it as "no body" here, where bodies are parsed, keeps
 * every route honest: a route that needs a body still refuses a missing one in its own
 * words, and a route whose body is optional just sees none.
 *
 * Anything else goes to fastify's own JSON parser, keeping its protection against
 * `__proto__` and `constructor` keys and its error for malformed JSON.
 */
import type { FastifyInstance } from 'fastify';

export function installJsonBodyParser(app: FastifyInstance, opts: { bodyLimit: number }): void {
  const strict = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: opts.bodyLimit }, (request, raw, done) => {
    const body = typeof raw === 'string' ? raw : raw.toString('utf8');
    if (body.length === 0) {
      done(null, undefined);
      return;
    }
    strict(request, body, done);
  });
}
