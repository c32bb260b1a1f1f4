/**
 * Device keys, enrollment keys and operator tokens. Secrets are 32 random bytes, shown once and stored only
 * as SHA-256 hashes: they are high-entropy random values, so a slow password hash would add cost without
 * adding safety. Keys are looked up by hash, cached in memory, and revocable; revocations made by another
 * process (the keys CLI) are noticed by polling. A device key may be bound to one device name; an
 * enrollment key mints such a bound key for each device that first joins with it.
 */
import { createHash } from "node:crypto";
import { systemClock, type Timers } from "../../shared/clock.ts";
import { type Database, type Migration, transaction } from "../store/db.ts";
import type { CreatedKey, KeyRecord, KeyScope, KeyVerifier } from "./types.ts";

/** The keys table; then enrollment keys, and device keys bound to one device name. */
export const KEY_MIGRATIONS: readonly Migration[] = [{
  id: 1,
  name: "keys",
  sql: `CREATE TABLE keys (
    id TEXT PRIMARY KEY,
    scope TEXT NOT NULL CHECK (scope IN ('device', 'operator')),
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
  )`,
}, {
  // SQLite cannot widen a CHECK in place: the table is copied into one that allows the new scope.
  id: 50,
  name: "enrollment and device-bound keys",
  sql: `CREATE TABLE keys_v2 (
    id TEXT PRIMARY KEY,
    scope TEXT NOT NULL CHECK (scope IN ('device', 'operator', 'enroll')),
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    device TEXT CHECK (device IS NULL OR scope = 'device'),
    enrolled_by TEXT
  );
  INSERT INTO keys_v2 (id, scope, name, secret_hash, created_at, revoked_at)
    SELECT id, scope, name, secret_hash, created_at, revoked_at FROM keys;
  DROP TABLE keys;
  ALTER TABLE keys_v2 RENAME TO keys;
  CREATE INDEX keys_live_device ON keys (device) WHERE device IS NOT NULL AND revoked_at IS NULL;`,
}];

const PREFIX: Record<KeyScope, string> = { device: "a3d_", operator: "a3o_", enroll: "a3e_" };

const COLUMNS = "id, scope, name, created_at, revoked_at, device, enrolled_by";

interface Row {
  id: string;
  scope: KeyScope;
  name: string;
  created_at: number;
  revoked_at: number | null;
  device: string | null;
  enrolled_by: string | null;
}

function toRecord(row: Row): KeyRecord {
  return {
    id: row.id,
    scope: row.scope,
    name: row.name,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
    device: row.device,
    enrolledBy: row.enrolled_by,
  };
}

function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

function randomToken(bytes: number): string {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  return btoa(String.fromCharCode(...raw)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** The key store. */
export class KeyStore implements KeyVerifier {
  readonly #db: Database;
  readonly #clock: Timers;
  readonly #live = new Map<string, KeyRecord>();
  readonly #listeners = new Set<(keyId: string) => void>();
  readonly #known = new Set<string>();
  #poll: unknown;

  /** `pollMs` > 0 watches the table for revocations made by other processes. */
  constructor(db: Database, options: { clock?: Timers; pollMs?: number } = {}) {
    this.#db = db;
    this.#clock = options.clock ?? systemClock;
    for (const record of this.list()) if (record.revokedAt !== null) this.#known.add(record.id);
    if (options.pollMs) this.#poll = this.#clock.setInterval(() => this.#noticeRevocations(), options.pollMs);
  }

  /**
   * Creates a key; the secret is returned once and never stored. `device` binds a device key to that one
   * device name (any other scope refuses it).
   */
  create(scope: KeyScope, name: string, options: { device?: string } = {}): CreatedKey {
    if (options.device !== undefined && scope !== "device") {
      throw new Error(`Cannot create key: only a device key can be bound to a device, not ${scope}`);
    }
    return this.#insert(scope, name, options.device ?? null, null);
  }

  enroll(enrollKeyId: string, device: string): CreatedKey | null {
    return transaction(this.#db, () => {
      const bound = this.#db.prepare(
        "SELECT 1 FROM keys WHERE device = ? AND revoked_at IS NULL",
      ).get(device);
      return bound === undefined ? this.#insert("device", device, device, enrollKeyId) : null;
    });
  }

  /** Every key, revoked ones included, oldest first. */
  list(): KeyRecord[] {
    const rows = this.#db.prepare(`SELECT ${COLUMNS} FROM keys ORDER BY created_at, id`)
      .all() as unknown as Row[];
    return rows.map(toRecord);
  }

  verify(secret: string): KeyRecord | null {
    if (secret.length > 512) return null;
    const hash = hashSecret(secret);
    const cached = this.#live.get(hash);
    if (cached !== undefined) return cached;
    const row = this.#db.prepare(
      `SELECT ${COLUMNS} FROM keys WHERE secret_hash = ? AND revoked_at IS NULL`,
    ).get(hash) as Row | undefined;
    if (row === undefined) return null;
    const record = toRecord(row);
    this.#live.set(hash, record);
    return record;
  }

  /** Revokes a key by id, or by name when exactly one live key has it; returns the key or null. */
  revoke(idOrName: string): KeyRecord | null {
    const matches = this.list().filter((k) =>
      k.revokedAt === null && (k.id === idOrName || k.name === idOrName)
    );
    const byId = matches.find((k) => k.id === idOrName);
    const target = byId ?? (matches.length === 1 ? matches[0] : undefined);
    if (target === undefined) return null;
    target.revokedAt = this.#clock.now();
    this.#db.prepare("UPDATE keys SET revoked_at = ? WHERE id = ?").run(target.revokedAt, target.id);
    this.#forget(target.id);
    return target;
  }

  onRevoke(listener: (keyId: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stops watching for revocations. */
  close(): void {
    this.#clock.clearInterval(this.#poll);
  }

  #insert(scope: KeyScope, name: string, device: string | null, enrolledBy: string | null): CreatedKey {
    const secret = PREFIX[scope] + randomToken(32);
    const record: KeyRecord = {
      id: `key_${randomToken(9)}`,
      scope,
      name,
      createdAt: this.#clock.now(),
      revokedAt: null,
      device,
      enrolledBy,
    };
    this.#db.prepare(
      `INSERT INTO keys (id, scope, name, secret_hash, created_at, device, enrolled_by)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(record.id, scope, name, hashSecret(secret), record.createdAt, device, enrolledBy);
    return { record, secret };
  }

  #noticeRevocations(): void {
    const rows = this.#db.prepare("SELECT id FROM keys WHERE revoked_at IS NOT NULL").all() as Array<
      { id: string }
    >;
    for (const { id } of rows) if (!this.#known.has(id)) this.#forget(id);
  }

  #forget(keyId: string): void {
    this.#known.add(keyId);
    for (const [hash, record] of this.#live) if (record.id === keyId) this.#live.delete(hash);
    for (const listener of this.#listeners) listener(keyId);
  }
}
