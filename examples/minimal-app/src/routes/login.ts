/** GET /login: sends the user to Almanac's connect pages. */
import { createPkcePair, generateState } from '@almanac/sdk';
import type { Context } from '../context.js';

export async function login(ctx: Context): Promise<void> {
  // `state` ties the callback to this browser session (no one can make the user finish
  // a flow they did not start); PKCE ties the code to this app instance, so a code that
  // leaks from the redirect URL cannot be exchanged without the verifier kept here.
  const { codeVerifier, codeChallenge } = await createPkcePair();
  const state = await generateState();
  ctx.session.pending = { state, codeVerifier, createdAt: Date.now() };
  // A pushed request (made with the client secret, from this server) tells Almanac that this
  // app vouches for the user, so its pages may also show and manage the calendars connected
  // before. The plain `generateAuthUrl` works too, but its pages can only add calendars.
  const url = await ctx.almanac().auth.generatePushedAuthUrl({ userId: ctx.session.userId, scope: 'read-write', state, codeChallenge });
  ctx.redirect(url, 302);
}
