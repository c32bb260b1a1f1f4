/**
 * Device keys and operator tokens. Secrets are 32 random bytes, shown once and stored only as SHA-256
 * hashes: they are high-entropy random values, so a slow password hash would add cost without adding
 * safety. Keys are looked up by hash, cached in memory, and revocable; revocations made by another
 * process (the keys CLI) are noticed by polling.
 */
import { createHash } from "node:crypto";
import { systemClock, type Timers } from "../../shared/clock.ts";
import type { Database, Migration } from "../store/db.ts";
import type { KeyRecord, KeyScope, KeyVerifier } from "./types.ts";

/** The keys table. */
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
}];

const PREFIX: Record<KeyScope, string> = { device: "a3d_", operator: "a3o_" };

interface Row {
  id: string;
  scope: KeyScope;
  name: string;
  created_at: number;
  revoked_at: number | null;
}

function toRecord(row: Row): KeyRecord {
  return {
    id: row.id,
    scope: row.scope,
    name: row.name,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
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

  /** Creates a key; the secret is returned once and never stored. */
  create(scope: KeyScope, name: string): { record: KeyRecord; secret: string } {
    const secret = PREFIX[scope] + randomToken(32);
    const record: KeyRecord = {
      id: `key_${randomToken(9)}`,
      scope,
      name,
      createdAt: this.#clock.now(),
      revokedAt: null,
    };
    this.#db.prepare("INSERT INTO keys (id, scope, name, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)")
      .run(
        record.id,
        scope,
        name,
        hashSecret(secret),
        record.createdAt,
      );
    return { record, secret };
  }

  /** Every key, revoked ones included, oldest first. */
  list(): KeyRecord[] {
    const rows = this.#db.prepare(
      "SELECT id, scope, name, created_at, revoked_at FROM keys ORDER BY created_at, id",
    )
      .all() as unknown as Row[];
    return rows.map(toRecord);
  }

  verify(secret: string): KeyRecord | null {
    if (secret.length > 512) return null;
    const hash = hashSecret(secret);
    const cached = this.#live.get(hash);
    if (cached !== undefined) return cached;
    const row = this.#db.prepare(
      "SELECT id, scope, name, created_at, revoked_at FROM keys WHERE secret_hash = ? AND revoked_at IS NULL",
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
