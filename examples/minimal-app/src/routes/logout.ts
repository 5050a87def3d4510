/** POST /logout: revokes this app's Almanac tokens and forgets them. */
import { AlmanacError } from '@almanac/sdk';
import type { Context } from '../context.js';

export async function logout(ctx: Context): Promise<void> {
  await ctx.form();
  if (ctx.connected) {
    try {
      // Revokes every token of this user for this app on Almanac, not just the one sent.
      await ctx.almanac().auth.revoke();
    } catch (err) {
      // Forget the tokens locally even so: the user asked for this app to let go.
      if (!(err instanceof AlmanacError)) throw err;
      console.warn(`Revoking the tokens failed (${err.message}); they were forgotten locally.`);
    }
  }
  ctx.disconnect();
  ctx.redirect('/?notice=revoked');
}
