/**
 * The few lines `npm start` prints once it listens: where, on which database, how to
 * try the flow (the demo client and a ready authorize URL), and the one setting a
 * local CalDAV server needs. Pure: main.ts gathers the facts, tests read the lines.
 */
import type { EnsureResult } from '../demo/demo-client.js';
import { demoAuthorizeUrl } from '../demo/demo-client.js';

export interface BannerFacts {
  version: string;
  /** What the server listens on, e.g. `0.0.0.0:3000`. */
  listening: string;
  publicUrl: string;
  /** From describeDatabase(), e.g. `SQLite /srv/data/almanac.sqlite`. */
  database: string;
  /** The generated key file in embedded mode; undefined with ALMANAC_SECRET_KEY. */
  keyFile?: string;
  redis: boolean;
  demo: EnsureResult;
  allowPrivateNetworks: boolean;
}

export function startupBanner(f: BannerFacts): string[] {
  const lines = [
    `Almanac ${f.version} is listening on ${f.listening}: open ${f.publicUrl}/`,
    `  database:  ${f.database}${f.keyFile ? ` (key: ${f.keyFile})` : ''}`,
  ];
  if (f.redis) lines.push('  Redis:     shared rate limits (REDIS_URL)');
  lines.push(`  API docs:  ${f.publicUrl}/api/docs`);
  if (f.demo.kind === 'created') {
    lines.push(
      '',
      'First run: created a demo client (`npx almanac demo` shows these again):',
      `  client_id:     ${f.demo.client.clientId}`,
      `  client_secret: ${f.demo.clientSecret}`,
    );
  } else if (f.demo.kind === 'existing') {
    lines.push('', `Demo client ${f.demo.client.clientId} (\`npx almanac demo\` shows its secret).`);
  }
  if (f.demo.kind !== 'none') {
    lines.push('Try the flow: open this URL, connect a calendar, press Continue:', `  ${demoAuthorizeUrl(f.publicUrl, f.demo.client.clientId)}`);
    if (!f.allowPrivateNetworks) {
      lines.push('A CalDAV server on this machine or your network? Start with ALMANAC_ALLOW_PRIVATE_NETWORKS=true (otherwise such addresses are refused).');
    }
  }
  return lines;
}
