/** GET /callback: Almanac sends the user back here with `code` and `state` (or `error`). */
import type { Context } from '../context.js';
import { HttpError } from '../context.js';
import { sameSecret } from '../sessions.js';

export async function callback(ctx: Context): Promise<void> {
  const params = ctx.url.searchParams;
  // Taken out whatever happens next: a state is good for one callback only.
  const pending = ctx.store.takePending(ctx.session);
  if (!pending || !sameSecret(params.get('state') ?? undefined, pending.state)) {
    // Not a flow this session started (or one that expired): possibly a forged link
    // trying to attach someone else's calendar to this user. Never exchange that code.
    throw new HttpError(400, 'This sign-in could not be verified (the state does not match). Start again from the home page.');
  }
  const error = params.get('error');
  if (error === 'access_denied') return ctx.redirect('/?notice=denied');
  if (error) throw new HttpError(400, `Almanac reported an error: ${error}`);
  const code = params.get('code');
  if (!code) throw new HttpError(400, 'The callback has no authorization code.');

  const tokens = await ctx.almanac().auth.getToken(code, { codeVerifier: pending.codeVerifier });
  ctx.store.saveTokens(ctx.session, tokens);
  // Redirect so the one-time code leaves the address bar and the browser history.
  ctx.redirect('/calendars?notice=connected');
}
