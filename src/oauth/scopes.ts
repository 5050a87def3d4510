/** Almanac's three scopes (API.md): each includes what the one before it allows. */
export const SCOPES = ['free-busy', 'read', 'read-write'] as const;
export type Scope = (typeof SCOPES)[number];
export const DEFAULT_SCOPE: Scope = 'read-write';

export function isScope(value: unknown): value is Scope {
  return typeof value === 'string' && (SCOPES as readonly string[]).includes(value);
}

export const canWrite = (scope: Scope): boolean => scope === 'read-write';
export const canReadDetails = (scope: Scope): boolean => scope !== 'free-busy';
