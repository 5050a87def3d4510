/**
 * Deletes rows nothing can use any more: pending connections whose connect session and
 * code are over (their sealed credentials must not linger), pushed authorization
 * requests past expiry, and codes a day past expiry. The write paths prune as they go;
 * this sweep makes sure it also happens when nobody connects. Every statement is an
 * idempotent DELETE, so any number of instances may sweep at once.
 */
import type { AccountsRepository } from './repositories/accounts.repo.js';
import type { AuthCodesRepository } from './repositories/auth-codes.repo.js';
import type { PushedRequestsRepository } from './repositories/pushed-requests.repo.js';

export interface SweepResult {
  pendingAccounts: number;
  pushedRequests: number;
  codes: number;
}

/** Expired codes are kept a day so a late replay is still recognised (and revokes what the code issued). */
const CODE_REPLAY_WINDOW_MS = 24 * 3600_000;

export class Housekeeping {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly accounts: AccountsRepository,
    private readonly codes: AuthCodesRepository,
    private readonly pushed: PushedRequestsRepository,
  ) {}

  async sweep(now = Date.now()): Promise<SweepResult> {
    return {
      pendingAccounts: await this.accounts.pruneExpiredPending(now),
      pushedRequests: await this.pushed.deleteExpired(now),
      codes: await this.codes.deleteExpired(now - CODE_REPLAY_WINDOW_MS),
    };
  }

  /** Sweeps every `intervalMs` until stop(); failures are reported, never thrown (the next sweep retries). */
  start(intervalMs: number, onError: (err: unknown) => void): void {
    this.stop();
    this.timer = setInterval(() => {
      this.sweep().catch(onError);
    }, intervalMs);
    // A sweep due later must not keep a finished process (tests, the CLI) alive.
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
