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
  const url = ctx.almanac().auth.generateAuthUrl({ userId: ctx.session.userId, scope: 'read-write', state, codeChallenge });
  ctx.redirect(url, 302);
}
