/** Almanac's three scopes (API.md): each includes what the one before it allows. */
export const SCOPES = ['free-busy', 'read', 'read-write'] as const;
export type Scope = (typeof SCOPES)[number];
export const DEFAULT_SCOPE: Scope = 'read-write';

/**
 * Other names applications send for a scope. `calendar` is the default of Mobiscroll's
 * Python and PHP SDKs and means full calendar access there. Aliases are only read from
 * requests: tokens, codes and stored rows always carry the canonical name.
 */
export const SCOPE_ALIASES: Readonly<Record<string, Scope>> = { calendar: 'read-write' };

/** Every value `scope` may take in a request, canonical names first. */
export const ACCEPTED_SCOPE_VALUES: readonly string[] = [...SCOPES, ...Object.keys(SCOPE_ALIASES)];

export function isScope(value: unknown): value is Scope {
  return typeof value === 'string' && (SCOPES as readonly string[]).includes(value);
}

/** A `scope` request parameter → the canonical scope, or undefined when it names none. */
export function parseScopeParam(value: string): Scope | undefined {
  if (isScope(value)) return value;
  return Object.prototype.hasOwnProperty.call(SCOPE_ALIASES, value) ? SCOPE_ALIASES[value] : undefined;
}

export const canWrite = (scope: Scope): boolean => scope === 'read-write';
export const canReadDetails = (scope: Scope): boolean => scope !== 'free-busy';
