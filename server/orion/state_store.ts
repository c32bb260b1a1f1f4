/**
 * The scheduler's durable state: the input log (every event, in order), a snapshot of the state that
 * covers a prefix of it (the covered inputs are then deleted), and an archive of finished DAGs taken out
 * of the live state at snapshot time. Loading is the snapshot plus the inputs after it, so restart time
 * follows the live state, not the history. Device capabilities are stored once, by content hash.
 *
 * Each input is one row, and that row also carries the transitions the input caused (the event log's
 * events, with their ids): one insert per input. A snapshot moves the carried events of the inputs it
 * covers into the event history, in the transaction that deletes those inputs.
 */
import type { DagSummary } from "../../shared/api_views.ts";
import type { Capabilities } from "../../shared/protocol/mod.ts";
import type { KnownDevices } from "../store/known_devices.ts";
import type { DeviceView } from "../gateway/types.ts";
import { emptyState, recover, step } from "../scheduler/scheduler.ts";
import type {
  DagState,
  DeviceInfo,
  SchedulerEvent,
  SchedulerState,
  TransitionRecord,
} from "../scheduler/types.ts";
import { cached, type Database, type Migration, transaction } from "../store/db.ts";
import { StoreOpenError } from "../store/errors.ts";
import type { CarriedEvents, LoggedEvent } from "./event_log.ts";

/** The input log (kept at id 21 for stores made before snapshots), the snapshot and the archive. */
export const ORION_STORE_MIGRATIONS: readonly Migration[] = [{
  id: 21,
  name: "orion inputs",
  sql:
    "CREATE TABLE orion_inputs (seq INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL, event TEXT NOT NULL)",
}, {
  id: 32,
  name: "orion snapshot and archive",
  sql: `CREATE TABLE orion_snapshot (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    covers_seq INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    state TEXT NOT NULL
  );
  CREATE TABLE orion_dag_archive (
    dag_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    ended_at_ms INTEGER,
    node_count INTEGER NOT NULL,
    archived_at_ms INTEGER NOT NULL,
    state TEXT NOT NULL
  );
  CREATE INDEX orion_dag_archive_created ON orion_dag_archive (created_at_ms, dag_id);`,
}, {
  id: 26,
  name: "orion inputs carry their transitions",
  sql: `CREATE TABLE orion_inputs_carrying (
    seq INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    event TEXT NOT NULL,
    first_event_id INTEGER,
    events TEXT
  );
  INSERT INTO orion_inputs_carrying (seq, at_ms, event) SELECT seq, at_ms, event FROM orion_inputs;
  DROP TABLE orion_inputs;
  ALTER TABLE orion_inputs_carrying RENAME TO orion_inputs;`,
}];

/** An input: a scheduler event, or the marker of a server restart. */
export type Input = SchedulerEvent | { type: "server-restarted" };

export type { DagSummary };

/** The state rebuilt from the store. */
export interface LoadedState {
  state: SchedulerState;
  /** The last input the state includes (0 for none). */
  lastSeq: number;
  /** Inputs replayed after the snapshot. */
  tailInputs: number;
  /** Whether the store held any scheduler history at all. */
  hasHistory: boolean;
}

/** How the snapshot stores a device: its capabilities by hash. */
type StoredDevice = Omit<DeviceInfo, "capabilities"> & { capabilitiesHash: string };

const SNAPSHOT_VERSION = 1;

/** Applies one input to a state, as the live service does. */
export function applyInput(state: SchedulerState, input: Input, atMs: number) {
  return input.type === "server-restarted"
    ? recover(state, atMs).commands
    : step(state, input, atMs).commands;
}

/** An event as an input's row carries it: the transition record, its DAG included. */
function carriedEvent(id: number, record: TransitionRecord): LoggedEvent {
  const data: Record<string, unknown> = {};
  for (const key in record) if (key !== "dagId") data[key] = record[key as keyof TransitionRecord];
  return { id, dagId: record.dagId, atMs: record.atMs, data };
}

/** Reads and writes the scheduler's durable state. */
export class OrionStore implements CarriedEvents {
  readonly #db: Database;
  readonly #devices: KnownDevices;
  readonly #file: string;
  readonly #dataDir: string;

  constructor(deps: { db: Database; devices: KnownDevices; file: string; dataDir: string }) {
    this.#db = deps.db;
    this.#devices = deps.devices;
    this.#file = deps.file;
    this.#dataDir = deps.dataDir;
  }

  /** Rebuilds the state: the snapshot, then every input after it. Damage throws `StoreOpenError`. */
  load(): LoadedState {
    const snapshot = this.#db.prepare("SELECT covers_seq, state FROM orion_snapshot WHERE id = 1").get() as
      | { covers_seq: number; state: string }
      | undefined;
    let state = emptyState();
    let lastSeq = 0;
    if (snapshot !== undefined) {
      try {
        state = this.#decodeState(snapshot.state);
      } catch (error) {
        throw this.#damaged(`its scheduler snapshot cannot be read (${(error as Error).message})`);
      }
      lastSeq = snapshot.covers_seq;
    }
    let tailInputs = 0;
    const rows = this.#db.prepare("SELECT seq, at_ms, event FROM orion_inputs WHERE seq > ? ORDER BY seq");
    for (const row of rows.iterate(lastSeq) as Iterable<{ seq: number; at_ms: number; event: string }>) {
      let input: Input;
      try {
        input = this.#decodeInput(row.event);
      } catch (error) {
        throw this.#badRow(row.seq, `is not a valid input (${(error as Error).message})`);
      }
      try {
        applyInput(state, input, row.at_ms);
      } catch (error) {
        throw this.#badRow(row.seq, `cannot be replayed (${(error as Error).message})`);
      }
      lastSeq = row.seq;
      tailInputs++;
    }
    return { state, lastSeq, tailInputs, hasHistory: snapshot !== undefined || tailInputs > 0 };
  }

  /**
   * An input as its row stores it (call inside the transaction that appends it, before applying it): a
   * device that became ready is remembered in the device registry and its capabilities are referenced by
   * hash.
   */
  encode(input: Input, atMs: number, device?: DeviceView): string {
    let stored: unknown = input;
    if (input.type === "device-ready") {
      const hash = device !== undefined && device.id === input.device.id
        ? this.#devices.remember(device, atMs)
        : this.#devices.storeCapabilities(input.device.capabilities);
      const { capabilities: _, ...rest } = input.device;
      stored = { type: input.type, device: { ...rest, capabilitiesHash: hash } };
    } else if (input.type === "device-offline") {
      this.#devices.seen(input.deviceId, atMs);
    }
    return JSON.stringify(stored);
  }

  /**
   * Appends an encoded input as row `seq` (call inside the transaction that applies it), with the
   * transitions it caused as events `firstEventId`, `firstEventId + 1`, …; returns them as logged events.
   */
  append(
    seq: number,
    atMs: number,
    encoded: string,
    firstEventId: number,
    transitions: readonly TransitionRecord[],
  ): LoggedEvent[] {
    cached(
      this.#db,
      "INSERT INTO orion_inputs (seq, at_ms, event, first_event_id, events) VALUES (?, ?, ?, ?, ?)",
    ).run(
      seq,
      atMs,
      encoded,
      transitions.length === 0 ? null : firstEventId,
      transitions.length === 0 ? null : JSON.stringify(transitions),
    );
    return transitions.map((record, index) => carriedEvent(firstEventId + index, record));
  }

  carriedSince(afterId: number, dagId: string | undefined, limit: number): LoggedEvent[] {
    const rows = cached(
      this.#db,
      `SELECT first_event_id, events FROM orion_inputs
       WHERE events IS NOT NULL AND first_event_id + json_array_length(events) - 1 > ? ORDER BY seq`,
    ).all(afterId) as Array<{ first_event_id: number; events: string }>;
    const found: LoggedEvent[] = [];
    for (const row of rows) {
      const records = JSON.parse(row.events) as TransitionRecord[];
      for (let index = 0; index < records.length && found.length < limit; index++) {
        const id = row.first_event_id + index;
        if (id <= afterId || (dagId !== undefined && records[index].dagId !== dagId)) continue;
        found.push(carriedEvent(id, records[index]));
      }
      if (found.length >= limit) break;
    }
    return found;
  }

  newestCarriedId(): number {
    const row = this.#db.prepare(
      "SELECT max(first_event_id + json_array_length(events) - 1) AS id FROM orion_inputs WHERE events IS NOT NULL",
    ).get() as { id: number | null };
    return Number(row.id ?? 0);
  }

  /**
   * In one transaction: archives `archive` (finished DAGs), stores the state without them as the snapshot
   * covering every input up to `coversSeq` (the last one applied), moves the events those inputs carry
   * into the event history, deletes the inputs, and drops capability sets nothing refers to any more. Memory is the caller's to change, after this returns.
   */
  snapshot(state: SchedulerState, coversSeq: number, atMs: number, archive: readonly DagState[]): void {
    transaction(this.#db, () => {
      const insert = this.#db.prepare(
        `INSERT OR REPLACE INTO orion_dag_archive
         (dag_id, name, status, created_at_ms, ended_at_ms, node_count, archived_at_ms, state)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const dag of archive) {
        insert.run(
          dag.id,
          dag.name,
          dag.status,
          dag.createdAtMs,
          dag.endedAtMs,
          dag.order.length,
          atMs,
          JSON.stringify(dag),
        );
      }
      const gone = new Set(archive.map((dag) => dag.id));
      const dags = gone.size === 0
        ? state.dags
        : Object.fromEntries(Object.entries(state.dags).filter(([id]) => !gone.has(id)));
      const hashes = new Set<string>();
      const devices: Record<string, StoredDevice> = {};
      for (const [id, device] of Object.entries(state.devices)) {
        const { capabilities, ...rest } = device;
        const capabilitiesHash = this.#devices.storeCapabilities(capabilities);
        hashes.add(capabilitiesHash);
        devices[id] = { ...rest, capabilitiesHash };
      }
      const text = JSON.stringify({ version: SNAPSHOT_VERSION, state: { ...state, dags, devices } });
      this.#db.prepare(
        "INSERT OR REPLACE INTO orion_snapshot (id, covers_seq, at_ms, state) VALUES (1, ?, ?, ?)",
      ).run(coversSeq, atMs, text);
      this.#db.prepare(
        `INSERT INTO orion_transitions (id, dag_id, at_ms, data)
         SELECT input.first_event_id + carried.key, json_extract(carried.value, '$.dagId'),
           json_extract(carried.value, '$.atMs'), json_remove(carried.value, '$.dagId')
         FROM orion_inputs AS input, json_each(input.events) AS carried
         WHERE input.seq <= ? AND input.events IS NOT NULL`,
      ).run(coversSeq);
      this.#db.prepare("DELETE FROM orion_inputs WHERE seq <= ?").run(coversSeq);
      this.#devices.prune(hashes);
    });
  }

  /** An archived DAG, or undefined. */
  archived(id: string): DagState | undefined {
    const row = this.#db.prepare("SELECT state FROM orion_dag_archive WHERE dag_id = ?").get(id) as
      | { state: string }
      | undefined;
    return row === undefined ? undefined : JSON.parse(row.state) as DagState;
  }

  /** Every archived DAG's summary, oldest first. */
  archivedSummaries(): DagSummary[] {
    const rows = this.#db.prepare(
      `SELECT dag_id, name, status, created_at_ms, ended_at_ms, node_count
       FROM orion_dag_archive ORDER BY created_at_ms, dag_id`,
    ).all() as Array<
      {
        dag_id: string;
        name: string;
        status: string;
        created_at_ms: number;
        ended_at_ms: number | null;
        node_count: number;
      }
    >;
    return rows.map((row) => ({
      id: row.dag_id,
      name: row.name,
      state: row.status,
      createdAt: row.created_at_ms,
      endedAt: row.ended_at_ms,
      nodes: row.node_count,
    }));
  }

  #decodeInput(text: string): Input {
    const input = JSON.parse(text) as Input | { type: "device-ready"; device: { capabilitiesHash?: string } };
    if (typeof input !== "object" || input === null || typeof input.type !== "string") {
      throw new Error("no event type");
    }
    if (input.type === "device-ready" && "capabilitiesHash" in input.device) {
      const { capabilitiesHash, ...device } = input.device as { capabilitiesHash: string };
      return {
        type: "device-ready",
        device: { ...device, capabilities: this.#capabilities(capabilitiesHash) } as never,
      };
    }
    return input as Input;
  }

  #decodeState(text: string): SchedulerState {
    const stored = JSON.parse(text) as {
      version: number;
      state: Omit<SchedulerState, "devices"> & { devices: Record<string, StoredDevice> };
    };
    if (stored.version !== SNAPSHOT_VERSION) throw new Error(`unknown snapshot version ${stored.version}`);
    const devices: Record<string, DeviceInfo> = {};
    for (const [id, device] of Object.entries(stored.state.devices)) {
      const { capabilitiesHash, ...rest } = device;
      devices[id] = { ...rest, capabilities: this.#capabilities(capabilitiesHash) };
    }
    return { ...stored.state, devices };
  }

  /** The capability set stored under `hash`; throws when the store lacks it (a damaged store). */
  #capabilities(hash: string): Capabilities {
    const capabilities = this.#devices.capabilities(hash);
    if (capabilities === undefined) throw new Error(`capabilities ${hash} are not in the store`);
    return capabilities;
  }

  #damaged(what: string): StoreOpenError {
    return new StoreOpenError(
      `Cannot load the scheduler state from ${this.#file}: ${what}; restore a backup (deno task store restore BACKUP_FILE --data-dir ${this.#dataDir})`,
    );
  }

  #badRow(seq: number, what: string): StoreOpenError {
    return new StoreOpenError(
      `Cannot replay the input log in ${this.#file}: row ${seq} ${what}; restore a backup (deno task store restore BACKUP_FILE --data-dir ${this.#dataDir}) or drop the log from that row on (deno task store truncate-log --from ${seq} --data-dir ${this.#dataDir}; the events from then on are lost)`,
    );
  }
}

/** Deletes the input log from `fromSeq` on (for a damaged tail); returns how many rows went. */
export function truncateInputs(db: Database, fromSeq: number): number {
  return transaction(
    db,
    () => Number(db.prepare("DELETE FROM orion_inputs WHERE seq >= ?").run(fromSeq).changes),
  );
}
