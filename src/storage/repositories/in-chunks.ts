/**
 * Statements over lists that grow with user data run once per slice of the list:
 * SQLite bounds the number of bound parameters in one statement, and very long IN
 * lists plan badly on both engines.
 */
export const CHUNK_SIZE = 500;

export async function selectInChunks<V, R>(values: readonly V[], select: (chunk: V[]) => Promise<R[]>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < values.length; i += CHUNK_SIZE) out.push(...(await select(values.slice(i, i + CHUNK_SIZE))));
  return out;
}

export async function forEachChunk<V>(values: readonly V[], run: (chunk: V[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < values.length; i += CHUNK_SIZE) await run(values.slice(i, i + CHUNK_SIZE));
}
