/** An in-memory KeyVerifier for gateway tests that do not need the real store. */
import type { CreatedKey, KeyRecord, KeyScope, KeyVerifier } from "../../server/auth/types.ts";

/** Keys held in memory; `revoke` fires listeners like the real store. */
export class MemoryKeys implements KeyVerifier {
  #bySecret = new Map<string, KeyRecord>();
  #listeners = new Set<(keyId: string) => void>();

  /** Adds a key (bound to `device` when given) and returns its secret. */
  add(scope: KeyScope, name: string, options: { device?: string } = {}): { id: string; secret: string } {
    return this.#add(scope, name, options.device ?? null, null);
  }

  verify(secret: string): KeyRecord | null {
    const record = this.#bySecret.get(secret);
    return record && record.revokedAt === null ? record : null;
  }

  enroll(enrollKeyId: string, device: string): CreatedKey | null {
    for (const record of this.#bySecret.values()) {
      if (record.device === device && record.revokedAt === null) return null;
    }
    const { secret } = this.#add("device", device, device, enrollKeyId);
    return { record: this.#bySecret.get(secret)!, secret };
  }

  onRevoke(listener: (keyId: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Revokes a key by id. */
  revoke(id: string): void {
    for (const record of this.#bySecret.values()) {
      if (record.id === id) record.revokedAt = 1;
    }
    for (const listener of this.#listeners) listener(id);
  }

  #add(scope: KeyScope, name: string, device: string | null, enrolledBy: string | null) {
    const id = `key_${this.#bySecret.size + 1}`;
    const secret = `${scope}-secret-${id}`;
    this.#bySecret.set(secret, { id, scope, name, createdAt: 0, revokedAt: null, device, enrolledBy });
    return { id, secret };
  }
}
