/** Helpers for the test servers that run as child processes (Radicale, Xandikos). */
import type { ChildProcess } from 'node:child_process';
import { freePort } from './free-port.js';

export { freePort };


/** Resolves once `url` answers at all (any status); fails when the child exits or 15 s pass. */
export async function waitUntilAnswering(url: string, child: ChildProcess, log: () => string, name = 'server'): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}: ${log()}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await response.body?.cancel();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${name} did not answer within 15 s: ${log()}`);
}

/** SIGTERM, then SIGKILL when the child has not gone within 3 s. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** The last few kilobytes `child` wrote to stderr, for the error when it fails to start. */
export function stderrTail(child: ChildProcess): () => string {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  return () => stderr;
}
