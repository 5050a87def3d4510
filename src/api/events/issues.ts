/**
 * Collects every problem of one request so a 400 lists them all in `details` (the
 * SDKs surface `details` on 400/422) while `message` names the first field.
 */
import { ValidationError } from '../../domain/errors.js';

export interface Issue {
  /** Dotted path of the offending field: `recurrence.byDay[2]`. */
  field: string;
  message: string;
}

export class Issues {
  readonly list: Issue[] = [];
  private readonly headlines = new Map<Issue, string>();

  /** `headline` replaces the default `Invalid <field>: <message>` when this issue is first. */
  add(field: string, message: string, headline?: string): void {
    const issue = { field, message };
    this.list.push(issue);
    if (headline !== undefined) this.headlines.set(issue, headline);
  }

  /** Runs `fn`; a ValidationError it throws becomes issues here (its details, or its message). */
  capture<T>(field: string, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      if (Array.isArray(err.details) && err.details.length > 0) this.list.push(...(err.details as Issue[]));
      else this.add(field, err.message);
      return undefined;
    }
  }

  throwIfAny(): void {
    const first = this.list[0];
    if (!first) return;
    const more = this.list.length - 1;
    const suffix = more > 0 ? ` (and ${more} more problem${more > 1 ? 's' : ''}, see details)` : '';
    const headline = this.headlines.get(first) ?? `Invalid ${first.field}: ${first.message}`;
    throw new ValidationError(`${headline}${suffix}`, this.list);
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  // Query parsers build dictionaries on a prototype that itself has a null prototype.
  return proto === Object.prototype || proto === null || Object.getPrototypeOf(proto) === null;
}

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
