/**
 * Graph subscriptions and `POST /webhooks/microsoft`, on SQLite and PostgreSQL, through
 * the real server and the emulator: the adapter's subscription passes Graph's validation
 * handshake against the route; a notification with the channel's clientState makes the
 * account's sync run (the change reaches the mirror long before the next poll), one
 * with a wrong clientState or an unknown subscription changes nothing; lifecycle events
 * renew, forget or resync the channel.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createMicrosoftProvider } from '../../src/providers/microsoft/index.js';
import type { OAuthCredentials, ProviderContext } from '../../src/providers/types.js';
import { startMicrosoftEmulator, type MicrosoftEmulator } from '../emulators/microsoft/microsoft-emulator.js';
import { silentLogger } from '../emulators/microsoft/microsoft-test-harness.js';
import { api, finishConnect, openConnect } from '../support/connect-flow.js';
import { dialects } from '../support/databases.js';
import { connectMicrosoft, microsoftEnv } from '../support/microsoft-connect.js';
import { startServer, type TestServer } from '../support/server.js';
import { syncNow as syncNowFor } from '../support/sync-now.js';
import { RENEWAL_GRACE_MS } from '../../src/storage/repositories/push-channels.repo.js';

for (const { dialect, skip } of await dialects()) describe(`Microsoft push on ${dialect}`, { skip }, () => {
  let ms: MicrosoftEmulator;
  let server: TestServer;
  let a: ReturnType<typeof api>;
  let accountRowId: string;
  let calendarId: string;
  let calendarRowId: string;
  let ctx: ProviderContext<OAuthCredentials>;
  const email = 'push@contoso.onmicrosoft.com';
  const base = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1);
  const month = { start: new Date(base).toISOString(), end: new Date(base + 31 * 86_400_000).toISOString() };
  const provider = () => createMicrosoftProvider({ ...ms.settings(), retry: { maxElapsedMs: 500, baseDelayMs: 10 } });

  before(async () => {
    ms = await startMicrosoftEmulator();
    calendarId = ms.addUser(email).defaultCalendar.id;
    ms.seedEvent(calendarId, { subject: 'Before', start: { dateTime: new Date(base + 3 * 86_400_000).toISOString().slice(0, 19), timeZone: 'UTC' }, end: { dateTime: new Date(base + 3 * 86_400_000 + 3_600_000).toISOString().slice(0, 19), timeZone: 'UTC' } });
    server = await startServer({ dialect, sync: true, env: microsoftEnv(ms) });
    const client = await server.createClient();
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'push' });
    ms.setConsent({ action: 'grant-all' }, email);
    assert.equal((await connectMicrosoft(server, s)).status, 303);
    a = api(server.url, (await finishConnect(server.url, s, client)).access_token);
    accountRowId = (await server.runtime.storage.db.selectFrom('accounts').select('id').executeTakeFirstOrThrow()).id;
    await syncNowFor(server.runtime, accountRowId);
    calendarRowId = (await server.runtime.storage.db.selectFrom('calendars').select('id').where('provider_calendar_id', '=', calendarId).executeTakeFirstOrThrow()).id;
    const issued = ms.issueTokens(email);
    ctx = { credentials: { kind: 'oauth', getAccessToken: async () => issued.accessToken, refreshAfterRejection: async () => issued.accessToken }, fetch, log: silentLogger };
  });
  after(async () => {
    await server?.close();
    await ms?.close();
  });

  /** A subscription started by the adapter, stored as the keeper stores channels. */
  async function channel(): Promise<{ id: string; token: string }> {
    const token = randomBytes(24).toString('base64url');
    const started = await provider().push.start(ctx, { calendarId, address: `${server.url}/webhooks/microsoft`, token, ttlMs: 7 * 86_400_000 });
    assert.ok(started.expiresAt.getTime() <= Date.now() + 4230 * 60_000, 'no longer than Graph allows for events');
    await server.runtime.services.pushChannels.insert({ id: started.channelId, provider: 'microsoft', calendarRowId, token, expiresAt: started.expiresAt.getTime() });
    return { id: started.channelId, token };
  }

  const mirrorTitles = async (): Promise<string[]> => (await a.events({ ...month, pageSize: '100' })).body.events.map((e: { title: string }) => e.title);
  async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<void> {
    const until = Date.now() + ms;
    while (!(await check())) {
      assert.ok(Date.now() < until, 'in time');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  test('the validation handshake echoes the token as text/plain, at once', async () => {
    const started = Date.now();
    const res = await fetch(`${server.url}/webhooks/microsoft?validationToken=${encodeURIComponent('Validation: Testing client <b>reachability</b>')}`, { method: 'POST', headers: { 'content-type': 'text/plain' } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal(await res.text(), 'Validation: Testing client <b>reachability</b>');
    assert.ok(Date.now() - started < 1000);
    assert.ok(ms.subscriptions.deliveries.every((d) => d.kind !== 'validation' || d.status === 200));
  });

  test('a subscription Graph cannot validate is refused with a clear error', async () => {
    await assert.rejects(
      provider().push.start(ctx, { calendarId, address: `${server.url}/webhooks/nowhere`, token: 'x', ttlMs: 3_600_000 }),
      (err: Error & { code?: string }) => err.code === 'INVALID_INPUT',
    );
  });

  test('a notification with the channel’s clientState syncs the account now; a forged one changes nothing', async () => {
    const { id } = await channel();
    assert.ok(ms.subscriptions.byId.has(id));
    const event = [...ms.store.events.values()].find((e) => e.subject === 'Before')!;

    ms.store.update(ms.store.find(event.id)!, { subject: 'Forged poke' });
    const claimedBefore = (await server.runtime.storage.db.selectFrom('sync_jobs').select('claimed_at').where('account_id', '=', accountRowId).executeTakeFirstOrThrow()).claimed_at;
    assert.deepEqual(await ms.subscriptions.notify(calendarId, event.id, 'updated', { clientState: 'not-the-secret' }), [202]);
    const unknown = await fetch(`${server.url}/webhooks/microsoft`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ value: [{ subscriptionId: 'nope', clientState: 'x', changeType: 'updated' }] }) });
    assert.equal(unknown.status, 202);
    await new Promise((r) => setTimeout(r, 500));
    const claimedAfter = (await server.runtime.storage.db.selectFrom('sync_jobs').select('claimed_at').where('account_id', '=', accountRowId).executeTakeFirstOrThrow()).claimed_at;
    assert.equal(claimedAfter, claimedBefore, 'no sync ran');
    assert.ok((await mirrorTitles()).includes('Before'));

    ms.store.update(ms.store.find(event.id)!, { subject: 'After' });
    const started = Date.now();
    assert.deepEqual(await ms.subscriptions.notify(calendarId, event.id, 'updated'), [202]);
    assert.ok(ms.subscriptions.deliveries.at(-1)!.ms < 3000, 'answered within Graph’s 3 seconds');
    await eventually(async () => (await mirrorTitles()).includes('After'));
    assert.ok(Date.now() - started < 5000, 'long before the 60 s poll');
  });

  test('lifecycle: reauthorizationRequired renews now, subscriptionRemoved forgets the channel, missed resyncs', async () => {
    const row = (id: string) => server.runtime.storage.db.selectFrom('push_channels').selectAll().where('id', '=', id).executeTakeFirst();
    const renew = await channel();
    assert.equal(await ms.subscriptions.lifecycle(renew.id, 'reauthorizationRequired'), 202);
    const marked = Number((await row(renew.id))?.expires_at ?? 0);
    assert.ok(marked <= Date.now() + RENEWAL_GRACE_MS, 'due for renewal');
    assert.ok(marked > Date.now(), 'still live, so the keeper stops it at Graph rather than only forgetting it');
    // This server has no https public URL, so its keeper replaces nothing: the run it asked for stops the channel at Graph.
    await syncNowFor(server.runtime, accountRowId);
    assert.equal(ms.subscriptions.byId.has(renew.id), false, 'stopped at Graph, not left to run out');
    assert.equal(await row(renew.id), undefined);

    const removed = await channel();
    assert.equal(await ms.subscriptions.lifecycle(removed.id, 'subscriptionRemoved'), 202);
    assert.equal(await row(removed.id), undefined, 'forgotten, so a new one is started');
    await syncNowFor(server.runtime, accountRowId);

    const missed = await channel();
    const event = [...ms.store.events.values()].find((e) => e.calendarId === calendarId)!;
    ms.store.update(ms.store.find(event.id)!, { subject: 'Missed change' });
    assert.equal(await ms.subscriptions.lifecycle(missed.id, 'missed'), 202);
    await eventually(async () => (await mirrorTitles()).includes('Missed change'));
  });

  test('a change notification on a channel past its expiry syncs nothing', async () => {
    // This server's keeper stops every channel (no https public URL): none is left from earlier tests.
    await syncNowFor(server.runtime, accountRowId);
    const { id } = await channel();
    await server.runtime.storage.db.updateTable('push_channels').set({ expires_at: Date.now() - 1000 }).where('id', '=', id).execute();
    const claimedBefore = (await server.runtime.storage.db.selectFrom('sync_jobs').select('claimed_at').where('account_id', '=', accountRowId).executeTakeFirstOrThrow()).claimed_at;
    const event = [...ms.store.events.values()].find((e) => e.calendarId === calendarId)!;
    ms.store.update(ms.store.find(event.id)!, { subject: 'After expiry' });
    assert.deepEqual(await ms.subscriptions.notify(calendarId, event.id, 'updated'), [202]);
    await new Promise((r) => setTimeout(r, 500));
    const claimedAfter = (await server.runtime.storage.db.selectFrom('sync_jobs').select('claimed_at').where('account_id', '=', accountRowId).executeTakeFirstOrThrow()).claimed_at;
    assert.equal(claimedAfter, claimedBefore, 'no sync ran');
    await syncNowFor(server.runtime, accountRowId);
  });

  test('a change notification for an account waiting for its user to reconnect syncs nothing sooner', async () => {
    await syncNowFor(server.runtime, accountRowId);
    const { id } = await channel();
    assert.ok(id);
    const db = server.runtime.storage.db;
    await db.updateTable('accounts').set({ sync_state: 'reauth_required' }).where('id', '=', accountRowId).execute();
    try {
      const before = await db.selectFrom('sync_jobs').select(['next_run_at', 'claimed_at']).where('account_id', '=', accountRowId).executeTakeFirstOrThrow();
      const event = [...ms.store.events.values()].find((e) => e.calendarId === calendarId)!;
      ms.store.update(ms.store.find(event.id)!, { subject: 'While revoked' });
      const statuses = await ms.subscriptions.notify(calendarId, event.id, 'updated');
      assert.ok(statuses.length >= 1 && statuses.every((status) => status === 202), `acknowledged, so Graph does not retry: ${statuses.join()}`);
      await new Promise((r) => setTimeout(r, 500));
      const after = await db.selectFrom('sync_jobs').select(['next_run_at', 'claimed_at']).where('account_id', '=', accountRowId).executeTakeFirstOrThrow();
      assert.equal(Number(after.next_run_at), Number(before.next_run_at), 'the job keeps its schedule');
      assert.equal(after.claimed_at, before.claimed_at, 'no sync ran');
    } finally {
      await db.updateTable('accounts').set({ sync_state: 'ok' }).where('id', '=', accountRowId).execute();
    }
    await syncNowFor(server.runtime, accountRowId);
  });

  test('stop deletes the subscription at Graph; one Graph no longer knows counts as stopped', async () => {
    const { id } = await channel();
    await provider().push.stop(ctx, { channelId: id });
    assert.equal(ms.subscriptions.byId.has(id), false);
    await provider().push.stop(ctx, { channelId: id });
  });

  test('a body that is not a notification collection is a clear 400', async () => {
    const res = await fetch(`${server.url}/webhooks/microsoft`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ hello: 1 }) });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { message: string }).message, /notification collection/);
  });
});
