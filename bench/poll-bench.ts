/**
 * M4: the steady cost of polling. 100 CalDAV accounts × 10 calendars (1,000 calendars) on
 * a loopback CalDAV double in its own process; nothing changes, so each poll of an
 * account is one PROPFIND of its calendar home. Measured: Almanac's CPU time for one full
 * poll of every account, as a share of one core over the 30 s poll interval, and the
 * process's resident memory.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/config.js';
import { createRuntime } from '../src/runtime.js';

const ACCOUNTS = 100;
const CALENDARS = 10;
const POLL_SECONDS = 30;

async function startDouble(): Promise<{ url: string; stop(): void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./caldav-double.ts', import.meta.url))], { env: { ...process.env, CALENDARS_PER_HOME: String(CALENDARS) }, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve) => child.stdout!.on('data', (c: Buffer) => /listening (\S+)/.exec(c.toString()) && resolve(/listening (\S+)/.exec(c.toString())![1]!)));
  return { url, stop: () => child.kill('SIGKILL') };
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 300_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function benchPolling(): Promise<void> {
  const double = await startDouble();
  const dir = mkdtempSync(join(tmpdir(), 'almanac-bench-'));
  try {
    const config = loadConfig({ ALMANAC_DATA_DIR: dir, ALMANAC_SECRET_KEY: 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz', LOG_LEVEL: 'silent', ALMANAC_DEMO_CLIENT: 'false', ALMANAC_ALLOW_PRIVATE_NETWORKS: 'true', ALMANAC_SYNC_POLL_SECONDS: String(POLL_SECONDS) });
    const runtime = await createRuntime(config, { syncTuning: { tickMs: 100 } });
    const { services } = runtime;
    const { client } = await services.clients.create({ name: 'bench', redirectUris: ['https://b.example/cb'] });
    const user = await services.users.findOrCreate(client.clientId, 'poller');
    for (let a = 0; a < ACCOUNTS; a++) {
      await services.accounts.upsert({
        userId: user.id,
        provider: 'caldav',
        accountId: `u${a}`,
        identity: `${double.url} u${a}`,
        display: null,
        credentials: { kind: 'basic', serverUrl: double.url, username: `u${a}`, password: 'pw', calendarHomeUrl: `${double.url}u${a}/` },
        grantedScopes: [],
        calendarPermissionGranted: true,
      });
    }
    await runtime.startBackground();
    const db = runtime.storage.db;
    await until(async () => {
      const ready = await db.selectFrom('calendar_sync').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'ready').executeTakeFirstOrThrow();
      return Number(ready.n) === ACCOUNTS * CALENDARS;
    }, 'first sync of every calendar');

    const cycles: { cpuMs: number; wallMs: number }[] = [];
    for (let cycle = 0; cycle < 3; cycle++) {
      const started = Date.now();
      const cpu = process.cpuUsage();
      await db.updateTable('sync_jobs').set({ next_run_at: started }).execute();
      runtime.sync.worker.kick();
      await until(async () => {
        const left = await db.selectFrom('sync_jobs').select((eb) => eb.fn.countAll<number>().as('n')).where((eb) => eb.or([eb('last_success_at', 'is', null), eb('last_success_at', '<', started)])).executeTakeFirstOrThrow();
        return Number(left.n) === 0;
      }, 'a full poll');
      const used = process.cpuUsage(cpu);
      cycles.push({ cpuMs: (used.user + used.system) / 1000, wallMs: Date.now() - started });
    }
    cycles.sort((x, y) => x.cpuMs - y.cpuMs);
    const median = cycles[1]!;
    const share = median.cpuMs / (POLL_SECONDS * 1000);
    const rssMb = process.memoryUsage().rss / 1024 / 1024;
    console.log(
      `${'M4 poll 1,000 calendars'.padEnd(34)} ${`${median.cpuMs.toFixed(0)} ms CPU`.padStart(14)} vs ${`${POLL_SECONDS * 1000} ms`.padStart(14)}  ratio ${`${(share * 100).toFixed(1)}%`.padStart(6)}  (one poll of ${ACCOUNTS} accounts × ${CALENDARS} calendars in ${median.wallMs} ms wall, share of one core at a ${POLL_SECONDS} s interval; target ≤ 10%)`,
    );
    console.log(`${'M4 resident memory'.padEnd(34)} ${`${rssMb.toFixed(0)} MB`.padStart(14)} vs ${'300 MB'.padStart(14)}  ratio ${`${(rssMb / 300).toFixed(2)}x`.padStart(6)}  (whole bench process after the polls; target ≤ 300 MB)`);
    await runtime.close();
  } finally {
    double.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
