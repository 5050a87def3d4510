/**
 * Decrypted mirror rows kept in process memory, so a calendar read again and again (an
 * application redrawing the same month) is not decrypted again each time; AES-GCM
 * setup per row dominates a mirror read otherwise. Encryption at rest is about what
 * the database holds: plaintext lives in this process's memory while it serves anyway.
 *
 * An entry is found by the sealed value's IV and tag and counts only for the associated
 * data it was opened with. The IV is random per seal, so a rewritten row never hits an
 * old entry; and the tag binds the IV, associated data and ciphertext, so a hit can only
 * ever return what an authenticated decryption of that same row produced (a row whose
 * body was tampered with but kept its IV and tag gets the genuine content, or fails once
 * evicted; a sealed value copied onto another row has other associated data and is
 * opened, which fails). The IV and tag alone are the map's key, not joined with the
 * associated data: that join and hashing the longer key showed in every mirror read.
 * Values are frozen: callers share them and must copy before changing anything. The
 * oldest entry goes first once `capacity` is reached.
 */
export class OpenedCache<T> {
  private readonly entries = new Map<string, { associatedData: string; value: T }>();

  constructor(private readonly capacity: number) {}

  get(associatedData: string, sealed: string, open: () => T): T {
    const hit = this.entries.get(sealIdentity(sealed));
    if (hit !== undefined && hit.associatedData === associatedData) return hit.value;
    return this.remember(associatedData, sealed, open);
  }

  /**
   * Keeps what `sealed` holds, known without opening it (its writer just sealed it):
   * `plain` must give exactly what opening it would.
   */
  remember(associatedData: string, sealed: string, plain: () => T): T {
    const value = deepFreeze(plain());
    this.entries.set(sealIdentity(sealed), { associatedData, value });
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    return value;
  }
}

/** `v1.<iv>.<tag>` of a sealed value (SecretBox's format), or the whole value if it has another shape. */
function sealIdentity(sealed: string): string {
  const afterIv = sealed.indexOf('.', 3);
  const afterTag = afterIv < 0 ? -1 : sealed.indexOf('.', afterIv + 1);
  return afterTag < 0 ? sealed : sealed.slice(0, afterTag);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
