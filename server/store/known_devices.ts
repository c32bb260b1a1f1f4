/**
 * Known devices, persisted: one row per device (who it is, which key, when last seen) and each distinct
 * capability set stored once under its SHA-256, however often the device reconnects. The scheduler's
 * input log refers to capabilities by that hash, so replay rebuilds the same state without a copy per
 * connect. After a restart the gateway starts from these rows, listing each device as offline.
 */
import { createHash } from "node:crypto";
import type { Capabilities } from "../../shared/protocol/mod.ts";
import { cached, type Database, type Migration } from "./db.ts";
import type { DeviceView } from "../gateway/types.ts";

/** The devices and capabilities tables. */
export const KNOWN_DEVICES_MIGRATIONS: readonly Migration[] = [{
  id: 31,
  name: "device registry",
  sql: `CREATE TABLE device_capabilities (
    hash TEXT PRIMARY KEY,
    data TEXT NOT NULL
  );
  CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    name TEXT NOT NULL,
    capabilities_hash TEXT NOT NULL REFERENCES device_capabilities (hash),
    first_seen_ms INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL,
    connects INTEGER NOT NULL
  );`,
}];

/** The content hash of a capability set (SHA-256 of its JSON, hex). */
export type CapabilitiesHash = string;

/** Devices and their capabilities in the store. */
export class KnownDevices {
  readonly #db: Database;
  readonly #hashes = new WeakMap<Capabilities, CapabilitiesHash>();
  readonly #parsed = new Map<CapabilitiesHash, Capabilities>();

  constructor(db: Database) {
    this.#db = db;
  }

  /** The hash of a capability set (cached per object, so a set is serialised once). */
  hashOf(capabilities: Capabilities): CapabilitiesHash {
    let hash = this.#hashes.get(capabilities);
    if (hash === undefined) {
      hash = createHash("sha256").update(JSON.stringify(capabilities)).digest("hex");
      this.#hashes.set(capabilities, hash);
    }
    return hash;
  }

  /** Stores a capability set unless its hash is already there; returns the hash. Call inside a transaction. */
  storeCapabilities(capabilities: Capabilities): CapabilitiesHash {
    const hash = this.hashOf(capabilities);
    cached(this.#db, "INSERT OR IGNORE INTO device_capabilities (hash, data) VALUES (?, ?)").run(
      hash,
      JSON.stringify(capabilities),
    );
    return hash;
  }

  /** Records that a device became ready (its row and capabilities). Call inside the input's transaction. */
  remember(device: DeviceView, atMs: number): CapabilitiesHash {
    const hash = this.storeCapabilities(device.capabilities);
    cached(
      this.#db,
      `INSERT INTO devices (id, key_id, name, capabilities_hash, first_seen_ms, last_seen_ms, connects)
       VALUES (?, ?, ?, ?, ?, ?, 1)
       ON CONFLICT (id) DO UPDATE SET key_id = excluded.key_id, name = excluded.name,
         capabilities_hash = excluded.capabilities_hash, last_seen_ms = excluded.last_seen_ms,
         connects = connects + 1`,
    ).run(device.id, device.keyId, device.name, hash, atMs, atMs);
    return hash;
  }

  /** Records when a device was last seen (it went offline). */
  seen(deviceId: string, atMs: number): void {
    cached(this.#db, "UPDATE devices SET last_seen_ms = max(last_seen_ms, ?) WHERE id = ?").run(
      atMs,
      deviceId,
    );
  }

  /** Deletes a device's row (its capability set goes at the next snapshot if nothing else uses it). */
  forget(deviceId: string): void {
    this.#db.prepare("DELETE FROM devices WHERE id = ?").run(deviceId);
  }

  /** The capability set stored under `hash`, or undefined; parsed once per hash. */
  capabilities(hash: CapabilitiesHash): Capabilities | undefined {
    let parsed = this.#parsed.get(hash);
    if (parsed === undefined) {
      const row = this.#db.prepare("SELECT data FROM device_capabilities WHERE hash = ?").get(hash) as
        | { data: string }
        | undefined;
      if (row === undefined) return undefined;
      parsed = JSON.parse(row.data) as Capabilities;
      this.#parsed.set(hash, parsed);
      this.#hashes.set(parsed, hash);
    }
    return parsed;
  }

  /** Every known device as an offline view, oldest first: what the gateway starts from. */
  known(): DeviceView[] {
    const rows = this.#db.prepare(
      "SELECT id, key_id, name, capabilities_hash, last_seen_ms FROM devices ORDER BY first_seen_ms, id",
    ).all() as Array<
      { id: string; key_id: string; name: string; capabilities_hash: string; last_seen_ms: number }
    >;
    const views: DeviceView[] = [];
    for (const row of rows) {
      const capabilities = this.capabilities(row.capabilities_hash);
      if (capabilities === undefined) continue;
      views.push({
        id: row.id,
        name: row.name,
        state: "offline",
        rttMs: null,
        lastSeen: row.last_seen_ms,
        capabilities,
        keyId: row.key_id,
      });
    }
    return views;
  }

  /** Deletes capability sets no device row and no hash in `keep` refers to. Call inside a transaction. */
  prune(keep: ReadonlySet<CapabilitiesHash>): void {
    const unused = this.#db.prepare(
      "SELECT hash FROM device_capabilities WHERE hash NOT IN (SELECT capabilities_hash FROM devices)",
    ).all() as Array<{ hash: string }>;
    const drop = this.#db.prepare("DELETE FROM device_capabilities WHERE hash = ?");
    for (const { hash } of unused) {
      if (keep.has(hash)) continue;
      drop.run(hash);
      this.#parsed.delete(hash);
    }
  }
}
