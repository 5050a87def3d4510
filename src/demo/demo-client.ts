/**
 * First run: with no client registered, create a demo client whose redirect URI is
 * Almanac's own /demo/callback page, and print everything needed to try the flow.
 */
import type { Runtime } from '../runtime.js';

export const DEMO_CALLBACK_PATH = '/demo/callback';

export async function ensureDemoClient(runtime: Runtime, print: (line: string) => void): Promise<void> {
  if ((await runtime.services.clients.count()) > 0) return;
  const base = runtime.config.publicUrl;
  const { client, clientSecret } = await runtime.services.clients.create({
    name: 'Demo app',
    displayName: 'Almanac demo',
    redirectUris: [`${base}${DEMO_CALLBACK_PATH}`],
  });
  const authorize = new URL(`${base}/api/oauth/authorize`);
  authorize.search = new URLSearchParams({ response_type: 'code', client_id: client.clientId, user_id: 'demo-user', scope: 'read-write', state: 'demo' }).toString();
  print('');
  print('First run: created a demo client (shown once; store the secret now).');
  print(`  client_id:     ${client.clientId}`);
  print(`  client_secret: ${clientSecret}`);
  print(`  redirect_uri:  ${base}${DEMO_CALLBACK_PATH}`);
  print(`Open this URL in a browser to try the flow:`);
  print(`  ${authorize.toString()}`);
  print('');
}
