/**
 * Recurring calendar objects as last fetched, per account and href, valid only for the
 * ETag they were fetched at. It spares listings a multiget of every series on every
 * page: after the first listing a series costs its ETag in a small REPORT answer.
 * Bounded in bytes and entries (least recently used go first), in memory only; a
 * miss is only a refetch. Objects that turned out not to be series are remembered
 * as such (without their data), so a server that ignores prop-filters costs one
 * fetch per object version, not one per page.
 */
import { LRUCache } from 'lru-cache';

/** `ics` null: that version of the object is not a series (or not readable as one). */
export interface CachedObject {
  etag: string;
  ics: string | null;
}

export interface SeriesObjectCacheLimits {
  maxBytes: number;
  maxEntries: number;
}

export const DEFAULT_SERIES_CACHE_LIMITS: SeriesObjectCacheLimits = { maxBytes: 16 * 1024 * 1024, maxEntries: 50_000 };

/** Key overhead counted for every entry, so markers without data still take room. */
const ENTRY_OVERHEAD = 128;

export class SeriesObjectCache {
  private readonly entries: LRUCache<string, CachedObject>;

  constructor(limits: SeriesObjectCacheLimits = DEFAULT_SERIES_CACHE_LIMITS) {
    this.entries = new LRUCache<string, CachedObject>({
      max: limits.maxEntries,
      maxSize: limits.maxBytes,
      sizeCalculation: (value, key) => ENTRY_OVERHEAD + key.length + value.etag.length + (value.ics?.length ?? 0),
    });
  }

  /** Scoped by account: one account's fetch never answers another's listing. */
  private static key(account: string, href: string): string {
    return `${account}\n${href}`;
  }

  /** The entry for exactly this version of the object, if known. */
  get(account: string, href: string, etag: string): CachedObject | undefined {
    const entry = this.entries.get(SeriesObjectCache.key(account, href));
    return entry?.etag === etag ? entry : undefined;
  }

  set(account: string, href: string, entry: CachedObject): void {
    this.entries.set(SeriesObjectCache.key(account, href), entry);
  }
}
