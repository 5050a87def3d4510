/**
 * Where the server's logs go when it runs as a process: standard output, written
 * asynchronously so a slow reader never stalls requests, with a bounded buffer (lines
 * beyond it are dropped, not queued without limit), and a flush that gives up.
 *
 * Pino's default destination flushes synchronously at exit and retries a full pipe
 * forever: with a reader that stopped reading, a SIGTERM closed the listener and the
 * process then spun in that flush and never exited. This destination registers no exit
 * hook; shutdown flushes it with a deadline and then abandons what is left.
 */
import { createRequire } from 'node:module';
import type { SonicBoom as SonicBoomClass } from 'sonic-boom';

// A CommonJS module whose types describe ES exports: load it the way it is published.
const SonicBoom = createRequire(import.meta.url)('sonic-boom') as typeof SonicBoomClass;

export interface LogDestination {
  stream: NodeJS.WritableStream;
  /**
   * Writes what is buffered and stops, waiting at most `timeoutMs`; true when everything
   * was written. Whatever is logged afterwards, or still buffered at the deadline, is dropped.
   */
  close(timeoutMs: number): Promise<boolean>;
}

const MAX_BUFFER_BYTES = 8 * 1024 * 1024;

export function createLogDestination(fd = 1): LogDestination {
  let abandoned = false;
  const boom = new SonicBoom({
    fd,
    sync: false,
    maxLength: MAX_BUFFER_BYTES,
    // A full pipe is retried while the server runs; once abandoned, writes stop retrying.
    retryEAGAIN: () => !abandoned,
  });
  // EPIPE (the reader went away) and given-up retries: logs are lost, serving goes on.
  boom.on('error', () => undefined);
  const abandon = () => {
    abandoned = true;
    boom.write = () => true;
    boom.flushSync = () => undefined;
  };
  return {
    stream: boom as unknown as NodeJS.WritableStream,
    close(timeoutMs) {
      if (abandoned) return Promise.resolve(false);
      return new Promise<boolean>((resolve) => {
        const done = (ok: boolean) => {
          clearTimeout(timer);
          abandon();
          resolve(ok);
        };
        const timer = setTimeout(() => done(false), timeoutMs);
        timer.unref();
        boom.once('finish', () => done(true));
        boom.once('close', () => done(true));
        boom.once('error', () => done(false));
        boom.end();
      });
    },
  };
}
