/**
 * POST /refresh: refreshes the tokens on demand. The SDK also does this by itself when
 * a call gets a 401 (access tokens live an hour); this button makes that visible.
 */
import type { Context } from '../context.js';

export async function refresh(ctx: Context): Promise<void> {
  await ctx.form();
  ctx.requireConnected();
  // The new tokens reach the store through onTokensRefreshed (see context.ts).
  await ctx.almanac().auth.refresh();
  ctx.redirect('/?notice=refreshed');
}
