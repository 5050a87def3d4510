/**
 * `custom` ↔ `extendedProperties.private`. Google stores only string values, so every
 * value is written as JSON and read back through JSON.parse; a value another application
 * wrote as plain text comes back as that text. Keys under `almanac:` are Almanac's own
 * bookkeeping and never appear in `custom`.
 */

export const RESERVED_PREFIX = 'almanac:';
/** A non-Meet join URL: Google has no writable field for third-party conference links. */
export const CONFERENCE_URL_KEY = `${RESERVED_PREFIX}conference`;

export type PrivateProperties = Record<string, string>;

export function readCustom(props: PrivateProperties | undefined): Record<string, unknown> | undefined {
  if (!props) return undefined;
  const custom: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(props)) {
    if (key.startsWith(RESERVED_PREFIX)) continue;
    custom[key] = decode(raw);
  }
  return Object.keys(custom).length > 0 ? custom : undefined;
}

function decode(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

export function encodeCustom(custom: Record<string, unknown>): PrivateProperties {
  const props: PrivateProperties = {};
  for (const [key, value] of Object.entries(custom)) {
    if (value !== undefined) props[key] = JSON.stringify(value);
  }
  return props;
}

/**
 * A PATCH fragment that makes `custom` exactly `next` (null: empty). Google merges maps
 * key by key, so keys to drop are sent as null; reserved keys are left alone.
 */
export function customPatch(
  next: Record<string, unknown> | null,
  current: PrivateProperties | undefined,
): Record<string, string | null> {
  const patch: Record<string, string | null> = {};
  for (const key of Object.keys(current ?? {})) {
    if (!key.startsWith(RESERVED_PREFIX)) patch[key] = null;
  }
  return { ...patch, ...encodeCustom(next ?? {}) };
}
