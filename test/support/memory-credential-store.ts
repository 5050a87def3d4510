/**
 * A CredentialStore kept in memory, for adapter tests that need a token manager but no
 * database (one process, one account). Same contract as the accounts repository's store:
 * versioned reads, compare-and-set writes, an expiring lease. The cross-instance
 * behaviour is tested over real storage (test/providers/oauth-credentials-storage.test.ts).
 */
import type { CredentialStore, VersionedCredentials } from '../../src/providers/types.js';

export class MemoryCredentialStore<T> implements CredentialStore<T> {
  private current: VersionedCredentials<T>;
  private lease: { owner: string; until: number } | undefined;
  /** Every write that won its compare-and-set, in order. */
  readonly writes: T[] = [];

  constructor(initial: T, version = 0) {
    this.current = { credentials: initial, version };
  }

  get stored(): VersionedCredentials<T> {
    return this.current;
  }

  async read(): Promise<VersionedCredentials<T>> {
    return this.current;
  }

  async state(): Promise<{ version: number; leaseOwner?: string }> {
    const held = this.lease && this.lease.until > Date.now() ? this.lease.owner : undefined;
    return { version: this.current.version, ...(held ? { leaseOwner: held } : {}) };
  }

  async compareAndSet(next: T, expectedVersion: number): Promise<number | undefined> {
    if (this.current.version !== expectedVersion) return undefined;
    this.current = { credentials: next, version: expectedVersion + 1 };
    this.writes.push(next);
    return this.current.version;
  }

  async acquireLease(owner: string, ttlMs: number): Promise<boolean> {
    if (this.lease && this.lease.owner !== owner && this.lease.until > Date.now()) return false;
    this.lease = { owner, until: Date.now() + ttlMs };
    return true;
  }

  async releaseLease(owner: string): Promise<void> {
    if (this.lease?.owner === owner) this.lease = undefined;
  }

  /** Replaces the credentials as a reconnect would (the version moves on). */
  replace(next: T): void {
    this.current = { credentials: next, version: this.current.version + 1 };
  }
}
