/** Waiting for the sync engine in tests: make an account due and wait for a run that started afterwards. */
import assert from 'node:assert/strict';
import type { Runtime } from '../../src/runtime.js';

export async function syncNow(runtime: Runtime, accountRowId: string, timeoutMs = 20_000): Promise<void> {
  let asked = Date.now();
  await runtime.sync.syncSoon(accountRowId);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await runtime.storage.db.selectFrom('sync_jobs').selectAll().where('account_id', '=', accountRowId).executeTakeFirst();
    if (job && job.lease_owner === null && job.claimed_at !== null && job.claimed_at >= asked) {
      if (job.last_error_at !== null && job.last_error_at >= job.claimed_at) assert.fail(`sync failed: ${job.last_error_code} ${job.last_error_message}`);
      if (job.last_success_at !== null && job.last_success_at >= job.claimed_at) return;
    }
    // A run claimed just before the request (its tick's clock read earlier) may have taken the due job without seeing the
    // request: idle and not due any more, ask again.
    if (job && job.lease_owner === null && job.claimed_at !== null && job.claimed_at < asked && job.next_run_at > Date.now()) {
      asked = Date.now();
      await runtime.sync.syncSoon(accountRowId);
      continue;
    }
    assert.ok(Date.now() < deadline, `sync finished in time (job: ${JSON.stringify(job)}, asked ${asked})`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Waits for the run a new connection starts by itself. Call before syncNow right after
 * connecting: a claim already in flight when syncNow asks can carry an earlier claim time
 * than the request, and then looks like a run that started before it.
 */
export async function firstSyncDone(runtime: Runtime, accountRowId: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await runtime.storage.db.selectFrom('sync_jobs').selectAll().where('account_id', '=', accountRowId).executeTakeFirst();
    if (job && job.lease_owner === null && (job.last_success_at !== null || job.last_error_at !== null)) return;
    assert.ok(Date.now() < deadline, `the first sync finished in time (job: ${JSON.stringify(job)})`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
