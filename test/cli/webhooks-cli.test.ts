/** `almanac clients … --json` webhook secrets and `almanac webhooks deliveries | replay | test`, against a receiver on loopback. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { runCli } from '../../src/cli/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { TEST_SECRET } from '../support/server.js';
import { startReceiver, type ReceivedRequest, type WebhookReceiver } from '../support/webhook-receiver.js';

async function cli(env: Record<string, string>, args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l) }, env);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

function headersOf(r: ReceivedRequest): Record<string, string> {
  return { 'webhook-id': String(r.headers['webhook-id']), 'webhook-timestamp': String(r.headers['webhook-timestamp']), 'webhook-signature': String(r.headers['webhook-signature']) };
}

describe('almanac webhooks', () => {
  let db: TestDatabase;
  let env: Record<string, string>;
  let receiver: WebhookReceiver;
  let clientId: string;
  let firstSecret: string;

  before(async () => {
    db = await createTestDatabase('sqlite');
    env = { ...db.env, ALMANAC_SECRET_KEY: TEST_SECRET, ALMANAC_ALLOW_PRIVATE_NETWORKS: 'true' };
    receiver = await startReceiver();
  });
  after(async () => {
    await receiver?.close();
    await db?.drop();
  });

  test('clients create --json shows the webhook secret once', async () => {
    const r = await cli(env, ['clients', 'create', '--name', 'Hooks', '--redirect-uri', 'https://app.example/cb', '--webhook-url', receiver.url, '--json']);
    assert.equal(r.code, 0, r.err);
    const created = JSON.parse(r.out) as { clientId: string; clientSecret: string; webhookSecret: string };
    assert.match(created.webhookSecret, /^whsec_[A-Za-z0-9+/]{32}$/);
    clientId = created.clientId;
    firstSecret = created.webhookSecret;
    const shown = await cli(env, ['clients', 'show', clientId, '--json']);
    assert.ok(!shown.out.includes(firstSecret.slice(6)), 'show never prints it again');
  });

  test('webhooks test sends a signed ping the standardwebhooks package verifies', async () => {
    const r = await cli(env, ['webhooks', 'test', clientId]);
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(r.out, /^Delivered msg_/);
    assert.equal(receiver.requests.length, 1);
    const ping = new Webhook(firstSecret).verify(receiver.requests[0]!.body, headersOf(receiver.requests[0]!)) as { type: string; clientId: string };
    assert.equal(ping.type, 'webhook.test');
    assert.equal(ping.clientId, clientId);
  });

  test('rotate-webhook-secret: for a while both secrets sign, so either verifies', async () => {
    const r = await cli(env, ['clients', 'rotate-webhook-secret', clientId, '--json']);
    assert.equal(r.code, 0, r.err);
    const rotated = JSON.parse(r.out) as { webhookSecret: string; previousSecretValidUntil: string };
    assert.match(rotated.webhookSecret, /^whsec_/);
    assert.notEqual(rotated.webhookSecret, firstSecret);
    const until = Date.parse(rotated.previousSecretValidUntil) - Date.now();
    assert.ok(until > 23.9 * 3_600_000 && until <= 24 * 3_600_000);
    assert.equal((await cli(env, ['webhooks', 'test', clientId])).code, 0);
    const last = receiver.requests.at(-1)!;
    assert.equal(String(last.headers['webhook-signature']).split(' ').filter((s) => s.startsWith('v1,')).length, 2);
    for (const secret of [firstSecret, rotated.webhookSecret]) new Webhook(secret).verify(last.body, headersOf(last));
    assert.throws(() => new Webhook(`whsec_${Buffer.alloc(24, 1).toString('base64')}`).verify(last.body, headersOf(last)));
  });

  test('a refused test is reported (exit 1) and listed; deliveries filters by client and status', async () => {
    receiver.respond = () => ({ status: 500 });
    const r = await cli(env, ['webhooks', 'test', clientId, '--json']);
    assert.equal(r.code, 1);
    const refused = JSON.parse(r.out) as { id: string; status: string; lastStatus: number; outcome: string };
    assert.deepEqual([refused.status, refused.lastStatus, refused.outcome], ['pending', 500, 'retry']);
    receiver.respond = () => ({ status: 204 });
    const all = JSON.parse((await cli(env, ['webhooks', 'deliveries', '--json'])).out) as { id: string; status: string; clientId: string }[];
    assert.equal(all.length, 3);
    assert.equal(all[0]!.id, refused.id, 'newest first');
    const pending = JSON.parse((await cli(env, ['webhooks', 'deliveries', '--client', clientId, '--status', 'pending', '--json'])).out) as { id: string }[];
    assert.deepEqual(pending.map((d) => d.id), [refused.id]);
    assert.deepEqual(JSON.parse((await cli(env, ['webhooks', 'deliveries', '--client', 'alm_nobody', '--json'])).out), []);
    const human = await cli(env, ['webhooks', 'deliveries']);
    assert.match(human.out, /delivered/);
    assert.match(human.out, /the receiver answered 500/);
  });

  test('the SSRF guard applies: a receiver on loopback is refused without ALMANAC_ALLOW_PRIVATE_NETWORKS', async () => {
    const before = receiver.requests.length;
    const r = await cli({ ...env, ALMANAC_ALLOW_PRIVATE_NETWORKS: 'false' }, ['webhooks', 'test', clientId, '--json']);
    assert.equal(r.code, 1);
    const refused = JSON.parse(r.out) as { lastError: string; lastStatus: number | null };
    assert.match(refused.lastError, /loopback/);
    assert.equal(refused.lastStatus, null);
    assert.equal(receiver.requests.length, before, 'nothing reached the receiver');
  });

  test('replay queues a delivery again with its webhook-id; bad arguments are usage errors', async () => {
    const delivered = JSON.parse((await cli(env, ['webhooks', 'deliveries', '--status', 'delivered', '--json'])).out) as { id: string }[];
    const id = delivered.at(-1)!.id;
    const r = await cli(env, ['webhooks', 'replay', id, '--json']);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(r.out), { replayed: 1 });
    const again = (JSON.parse((await cli(env, ['webhooks', 'deliveries', '--json'])).out) as { id: string; status: string; attempts: number }[]).find((d) => d.id === id)!;
    assert.deepEqual([again.status, again.attempts], ['pending', 0]);
    const since = await cli(env, ['webhooks', 'replay', '--since', '1h']);
    assert.equal(since.code, 0);
    assert.match(since.out, /^4 deliveries queued again/);
    assert.equal((await cli(env, ['webhooks', 'replay', 'msg_unknown'])).code, 3);
    assert.equal((await cli(env, ['webhooks', 'replay'])).code, 2);
    assert.equal((await cli(env, ['webhooks', 'replay', id, '--since', '1h'])).code, 2);
    assert.equal((await cli(env, ['webhooks', 'deliveries', '--status', 'lost'])).code, 2);
    assert.equal((await cli(env, ['webhooks', 'deliveries', '--since', 'yesterday-ish'])).code, 4);
    assert.equal((await cli(env, ['webhooks', 'test', 'alm_nobody'])).code, 3);
    assert.equal((await cli(env, ['webhooks', 'frobnicate'])).code, 2);
    const help = await cli(env, ['webhooks', '--help']);
    assert.equal(help.code, 0);
    for (const sub of ['deliveries', 'replay', 'test']) assert.match(help.out, new RegExp(`almanac webhooks ${sub}\\b`));
  });

  test('410 Gone disables the URL until it is set again', async () => {
    receiver.respond = () => ({ status: 410 });
    const gone = await cli(env, ['webhooks', 'test', clientId, '--json']);
    assert.equal(gone.code, 1);
    assert.equal((JSON.parse(gone.out) as { outcome: string }).outcome, 'gone');
    receiver.respond = () => ({ status: 204 });
    const before = receiver.requests.length;
    const still = await cli(env, ['webhooks', 'test', clientId, '--json']);
    assert.equal(still.code, 1);
    assert.match((JSON.parse(still.out) as { lastError: string }).lastError, /410 Gone/);
    assert.equal(receiver.requests.length, before, 'nothing is sent to a URL that answered 410');
    assert.equal((await cli(env, ['clients', 'update', clientId, '--webhook-url', receiver.url])).code, 0);
    assert.equal((await cli(env, ['webhooks', 'test', clientId])).code, 0);
  });
});
