/**
 * CPU per request of the M1 read (a month of 50 events from the mirror over HTTP) and of
 * the bare route, measured with process.cpuUsage in this one process (client and server
 * together), so it is much less sensitive to other load than wall-clock latency.
 * `node --import tsx bench/cpu-probe.ts [requests]`; add `--cpu-prof` for a profile.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import Fastify from 'fastify';
import { Agent, request } from 'undici';
import { mirrorFixture } from './mirror-bench.js';

const HOUR = 3_600_000;
const N = Number(process.argv[2] ?? 3000);
const agent = new Agent({ connections: 16, pipelining: 1 });

async function run(url: string, token: string | undefined, n: number, concurrency: number): Promise<void> {
  let left = n;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left-- > 0) {
        const res = await request(url, { dispatcher: agent, headers: token ? { authorization: `Bearer ${token}` } : {} });
        await res.body.text();
        if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
      }
    }),
  );
}

async function cpuPer(url: string, token: string | undefined): Promise<number> {
  await run(url, token, 500, 8);
  const samples: number[] = [];
  for (let r = 0; r < 5; r++) {
    const before = process.cpuUsage();
    await run(url, token, N, 8);
    const used = process.cpuUsage(before);
    samples.push((used.user + used.system) / N);
  }
  samples.sort((a, b) => a - b);
  return samples[2]!;
}

async function startProfile(): Promise<() => Promise<object>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  return async () => (await session.post('Profiler.stop')).profile;
}

const start = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() + 1, 1);
const fixture = await mirrorFixture({ accounts: 1, calendarsPerAccount: 1, eventsPerCalendar: 50, start: start + 9 * HOUR, spacingMs: 13 * HOUR });
const monthUrl = `${fixture.url}/api/events?start=${new Date(start).toISOString()}&end=${new Date(start + 31 * 24 * HOUR).toISOString()}`;
const first = await request(monthUrl, { dispatcher: agent, headers: { authorization: `Bearer ${fixture.token}` } });
const body = JSON.parse(await first.body.text()) as { events: unknown[] };
if (first.headers['almanac-source'] !== 'mirror' || body.events.length !== 50) throw new Error('not a mirror read of 50');
const bare = Fastify({ logger: false });
bare.get('/events', async () => body);
const bareUrl = `${await bare.listen({ port: 0, host: '127.0.0.1' })}/events`;
await fixture.refresh();
// PROBE_PROFILE=file.cpuprofile: a CPU profile of the mirror reads alone (after warm-up).
const profiling = process.env.PROBE_PROFILE ? await startProfile() : undefined;
const mirror = await cpuPer(monthUrl, fixture.token);
if (profiling) writeFileSync(process.env.PROBE_PROFILE!, JSON.stringify(await profiling()));
// PROBE_MIRROR_ONLY=1: the mirror read alone.
const baseline = process.env.PROBE_MIRROR_ONLY ? Number.NaN : await cpuPer(bareUrl, undefined);
console.log(`CPU per request: mirror ${mirror.toFixed(0)} µs, bare ${baseline.toFixed(0)} µs, ratio ${(mirror / baseline).toFixed(2)}x (client included in both)`);
await bare.close();
await agent.close();
await fixture.close();
