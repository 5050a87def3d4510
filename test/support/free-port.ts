/**
 * A port for a child process that must know its port before it starts (its public URL,
 * a restart on the same port after kill -9).
 *
 * Asking the kernel for port 0 and closing the probe is not enough: that port comes from
 * the ephemeral range, the same range every outgoing connection of every concurrently
 * running test file takes its local port from, so by the time the child binds, a fetch
 * elsewhere may hold it (EADDRINUSE). Ports are therefore drawn below the ephemeral range,
 * where only an explicit bind can land, and probed before they are handed out.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const FLOOR = 10_000;

function ephemeralLow(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const value = Number(low);
    return Number.isInteger(value) && value > FLOOR + 1_000 ? value : 32_768;
  } catch {
    return 32_768;
  }
}

const CEILING = ephemeralLow();
const handedOut = new Set<number>();

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = FLOOR + Math.floor(Math.random() * (CEILING - FLOOR));
    if (handedOut.has(port)) continue;
    if (await bindable(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no bindable port found between ${FLOOR} and ${CEILING}`);
}
