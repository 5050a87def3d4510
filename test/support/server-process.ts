/**
 * Almanac as a child process (`node --import tsx src/main.ts`), as `npm start` runs it:
 * for what only a process shows (startup lines, exit codes, signals, a closed stdout).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { freePort } from './free-port.js';

export { freePort };

const ROOT = new URL('../../', import.meta.url).pathname;


export interface ServerProcess {
  child: ChildProcessWithoutNullStreams;
  url: string;
  /** Everything written to stdout and stderr so far (stdout only while it is read). */
  output(): string;
  stderr(): string;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>;
  /** SIGTERM, then the exit. */
  stop(): Promise<number | string>;
}

/** Starts the server; resolves once it printed its startup lines (or rejects with its output). */
export async function startServerProcess(env: Record<string, string>, options: { waitFor?: RegExp; timeoutMs?: number } = {}): Promise<ServerProcess> {
  const port = env.PORT ?? String(await freePort());
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: '', HOST: '127.0.0.1', ALMANAC_SECRET_KEY: '', DATABASE_URL: '', PORT: port, ALMANAC_PUBLIC_URL: `http://127.0.0.1:${port}`, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => {
    out += c.toString();
    err += c.toString();
  });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const server: ServerProcess = {
    child,
    url: `http://127.0.0.1:${port}`,
    output: () => out,
    stderr: () => err,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
  const waitFor = options.waitFor ?? /API docs: .*\n(?:[\s\S]*Try the flow:.*\n.*\n)?/;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start: ${out}`));
    }, options.timeoutMs ?? 60_000);
    const check = () => {
      if (!waitFor.test(out)) return;
      // The banner is written in one go; a moment more lets its last lines arrive.
      setTimeout(() => {
        clearTimeout(timer);
        resolve(server);
      }, 200);
      child.stdout.off('data', check);
    };
    child.stdout.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${out}`));
    });
  });
}
