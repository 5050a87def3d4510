/**
 * `custom` (API.md: an object that must round-trip) lives in one single-value extended
 * property holding its JSON. Chosen over an open extension because the property is
 * written in the same POST or PATCH as the rest of the event (one request, covered by
 * the same If-Match, nothing half-written) and read with `$expand` in the same listing,
 * whereas an extension is a second resource with requests of its own.
 */
import type { GraphEvent } from './graph-wire-types.js';

/** A GUID of Almanac's own (property sets are namespaces; PS_PUBLIC_STRINGS would be shared with everyone). */
export const CUSTOM_PROPERTY_ID = 'String {5b9bc4d2-1c3e-4a7f-9e55-6d0f3b0a7c21} Name almanac.custom';

/** The `$expand` that brings the property along in reads. */
export const CUSTOM_EXPAND = `singleValueExtendedProperties($filter=id eq '${CUSTOM_PROPERTY_ID}')`;

export function customFrom(event: GraphEvent): Record<string, unknown> | undefined {
  const property = event.singleValueExtendedProperties?.find((p) => p.id.toLowerCase() === CUSTOM_PROPERTY_ID.toLowerCase());
  if (!property?.value) return undefined;
  try {
    const value = JSON.parse(property.value) as unknown;
    // A cleared `custom` is stored as `{}` (see customProperty) and reads as none.
    if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.keys(value).length === 0) return undefined;
    return value as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The property to write; an empty object when `custom` is cleared (Graph has no delete for a single property in PATCH). */
export function customProperty(custom: Record<string, unknown> | null): { id: string; value: string } {
  return { id: CUSTOM_PROPERTY_ID, value: JSON.stringify(custom ?? {}) };
}
