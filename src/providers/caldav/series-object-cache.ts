/**
 * What listings learned about a calendar's recurring objects, so a page does not pay
 * for it again:
 * - objects as last fetched, per account and href, valid only for the ETag they were
 *   fetched at (objects that turned out not to be series are remembered as such,
 *   without their data, so a server that ignores prop-filters costs one fetch per
 *   object version, not one per page);
 * - which hrefs are series, per account and calendar, valid only for the calendar
 *   version (getctag or sync-token) it was asked at.
 * Bounded in bytes and entries (least recently used go first), in memory only; a miss
 * is only a refetch.
 */
import { LRUCache } from 'lru-cache';

/** `ics` null: that version of the object is not a series (or not readable as one). */
export interface CachedObject {
  etag: string;
  ics: string | null;
}

/** The series hrefs (with ETags) of one calendar at one version. */
export interface CachedRefs {
  version: string;
  refs: Map<string, string | undefined>;
  /** false: every member of the calendar (the prop-filter could not be used). */
  filtered: boolean;
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
  private readonly refLists: LRUCache<string, CachedRefs>;

  constructor(limits: SeriesObjectCacheLimits = DEFAULT_SERIES_CACHE_LIMITS) {
    this.entries = new LRUCache<string, CachedObject>({
      max: limits.maxEntries,
      maxSize: limits.maxBytes,
      sizeCalculation: (value, key) => ENTRY_OVERHEAD + key.length + value.etag.length + (value.ics?.length ?? 0),
    });
    this.refLists = new LRUCache<string, CachedRefs>({
      max: Math.max(1, Math.floor(limits.maxEntries / 10)),
      maxSize: Math.max(1, Math.floor(limits.maxBytes / 4)),
      sizeCalculation: (value, key) => ENTRY_OVERHEAD + key.length + value.refs.size * ENTRY_OVERHEAD,
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

  /** The series hrefs of a calendar if they were listed at exactly this version. */
  refs(account: string, calendarUrl: string, version: string): CachedRefs | undefined {
    const entry = this.refLists.get(SeriesObjectCache.key(account, calendarUrl));
    return entry?.version === version ? entry : undefined;
  }

  setRefs(account: string, calendarUrl: string, entry: CachedRefs): void {
    this.refLists.set(SeriesObjectCache.key(account, calendarUrl), entry);
  }
}
