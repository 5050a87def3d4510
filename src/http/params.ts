/**
 * Reading request parameters that must appear at most once, as strings. Query strings
 * and form bodies turn a repeated name into an array: that is an error, never a pick.
 */
export type ParamBag = Record<string, unknown> | undefined | null;

export class ParamError extends Error {
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
    this.name = 'ParamError';
  }
}

export function readParam(bag: ParamBag, name: string, opts: { maxLength?: number } = {}): string | undefined {
  const value = bag?.[name];
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) throw new ParamError(name, `Parameter ${name} must not be repeated`);
  if (typeof value !== 'string') throw new ParamError(name, `Parameter ${name} must be a string`);
  const max = opts.maxLength ?? 2048;
  if (value.length > max) throw new ParamError(name, `Parameter ${name} is longer than ${max} characters`);
  return value;
}

export function readParams<K extends string>(bag: ParamBag, names: readonly K[], opts: { maxLength?: number } = {}): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const name of names) {
    const value = readParam(bag, name, opts);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/**
 * A parameter that may legitimately be repeated (`providers=google&providers=caldav`):
 * every occurrence, in order. Each must be a string within `maxLength`; more than
 * `maxItems` occurrences is an error rather than work without bound.
 */
export function readRepeatableParam(bag: ParamBag, name: string, opts: { maxLength?: number; maxItems?: number } = {}): string[] | undefined {
  const value = bag?.[name];
  if (value === undefined || value === null) return undefined;
  const values: unknown[] = Array.isArray(value) ? value : [value];
  const maxItems = opts.maxItems ?? 20;
  if (values.length > maxItems) throw new ParamError(name, `Parameter ${name} is repeated more than ${maxItems} times`);
  const max = opts.maxLength ?? 2048;
  return values.map((v) => {
    if (typeof v !== 'string') throw new ParamError(name, `Parameter ${name} must be a string`);
    if (v.length > max) throw new ParamError(name, `Parameter ${name} is longer than ${max} characters`);
    return v;
  });
}
