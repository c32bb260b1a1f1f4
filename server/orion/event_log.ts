/**
 * The durable history of every transition, streamed to SSE clients and replayed from any `Last-Event-ID`:
 * one id sequence, kept in memory and handed out as events are written. Device state changes share the
 * sequence; they carry no DAG, so a per-DAG query never returns them. Steps of node attempts share it too,
 * with their DAG (a per-DAG query returns them).
 *
 * The transitions a scheduler input caused are written in that input's own row (see `CarriedEvents`),
 * one row per input; they move to the history table, indexed by DAG, when a snapshot compacts the input
 * log. Queries read both, so where an event is kept does not show.
 */
import type { StepEventData } from "../../shared/api_views.ts";
import type { DeviceState } from "../gateway/types.ts";
import { cached, type Database, type Migration } from "../store/db.ts";

/** The transitions table (20), then the same without AUTOINCREMENT: ids are handed out in memory (25). */
export const EVENT_LOG_MIGRATIONS: readonly Migration[] = [{
  id: 20,
  name: "orion transitions",
  sql: `CREATE TABLE orion_transitions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dag_id TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    data TEXT NOT NULL
  );
  CREATE INDEX orion_transitions_dag ON orion_transitions (dag_id, id);`,
}, {
  id: 25,
  name: "orion transitions with explicit ids",
  sql: `CREATE TABLE orion_transitions_explicit (
    id INTEGER PRIMARY KEY,
    dag_id TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    data TEXT NOT NULL
  );
  INSERT INTO orion_transitions_explicit (id, dag_id, at_ms, data)
    SELECT id, dag_id, at_ms, data FROM orion_transitions;
  DROP TABLE orion_transitions;
  ALTER TABLE orion_transitions_explicit RENAME TO orion_transitions;
  CREATE INDEX orion_transitions_dag ON orion_transitions (dag_id, id);`,
}];

/** A stored transition. */
export interface LoggedEvent {
  id: number;
  dagId: string;
  atMs: number;
  data: Record<string, unknown>;
}

/** The `dag_id` of device events: no DAG has it, so `since(afterId, dagId)` leaves them out. */
const NO_DAG = "";

/** A device state change as logged: `from` is null the first time this server run sees the device. */
export interface DeviceEventData {
  kind: "device";
  deviceId: string;
  name: string;
  from: DeviceState | null;
  to: DeviceState;
  /** Why a device went offline (`connection-lost`, `heartbeat-timeout`, `key-revoked`, `bye`, …). */
  reason?: string;
}

/** Whether a logged event is a device state change rather than a DAG or node transition. */
export function isDeviceEvent(event: LoggedEvent): boolean {
  return event.dagId === NO_DAG && event.data.kind === "device";
}

/** Whether a logged event is a step of a node attempt. */
export function isStepEvent(event: LoggedEvent): boolean {
  return event.dagId !== NO_DAG && event.data.kind === "step";
}

/**
 * Events kept outside the history table until they are moved there: the transitions each scheduler input
 * caused, in the input's row (the Orion store).
 */
export interface CarriedEvents {
  /** Carried events with an id above `afterId`, oldest first, at most `limit`, optionally of one DAG. */
  carriedSince(afterId: number, dagId: string | undefined, limit: number): LoggedEvent[];
  /** The newest id a carried event has (0 when none). */
  newestCarriedId(): number;
}

/** Appends transitions and streams them to subscribers. */
export class EventLog {
  readonly #db: Database;
  readonly #subscribers = new Set<(event: LoggedEvent) => void>();
  #carried: CarriedEvents | null = null;
  /** The newest id handed out: ids of a write that was rolled back are not reused (a gap, never a repeat). */
  #newestId: number;

  constructor(db: Database) {
    this.#db = db;
    const row = db.prepare("SELECT max(id) AS id FROM orion_transitions").get() as { id: number | null };
    this.#newestId = Number(row.id ?? 0);
  }

  /** Reads (and counts the ids of) events kept in scheduler input rows as well as the history table. */
  carry(source: CarriedEvents): void {
    this.#carried = source;
    this.#newestId = Math.max(this.#newestId, source.newestCarriedId());
  }

  /**
   * Hands out `count` consecutive ids for events about to be written (call inside the transaction that
   * writes them); returns the first.
   */
  allocate(count: number): number {
    const first = this.#newestId + 1;
    this.#newestId += count;
    return first;
  }

  /** Appends one transition (call inside the state change's transaction); returns it with its id. */
  append(dagId: string, atMs: number, data: Record<string, unknown>): LoggedEvent {
    const id = this.#newestId + 1;
    cached(this.#db, "INSERT INTO orion_transitions (id, dag_id, at_ms, data) VALUES (?, ?, ?, ?)").run(
      id,
      dagId,
      atMs,
      JSON.stringify(data),
    );
    this.#newestId = id;
    return { id, dagId, atMs, data };
  }

  /** Appends one device state change, in the same id sequence as transitions; returns it with its id. */
  appendDevice(atMs: number, data: DeviceEventData): LoggedEvent {
    return this.append(NO_DAG, atMs, { ...data });
  }

  /** Appends one step of a node attempt (call inside the step row's transaction); returns it with its id. */
  appendStep(dagId: string, atMs: number, data: StepEventData): LoggedEvent {
    return this.append(dagId, atMs, { ...data });
  }

  /** Appends a change of an action held for approval (pending, approved, rejected, cancelled). */
  appendApproval(dagId: string, atMs: number, data: Record<string, unknown>): LoggedEvent {
    return this.append(dagId, atMs, { ...data, kind: "approval" });
  }

  /** The id of the newest event ever appended (0 when none), even if older rows were since removed. */
  newestId(): number {
    return this.#newestId;
  }

  /** Tells subscribers about events already committed. */
  publish(events: readonly LoggedEvent[]): void {
    for (const event of events) for (const subscriber of this.#subscribers) subscriber(event);
  }

  /** Events after `afterId`, oldest first, optionally for one DAG. */
  since(afterId: number, dagId?: string, limit = 10_000): LoggedEvent[] {
    const stored = this.#stored(afterId, dagId, limit);
    const carried = this.#carried?.carriedSince(afterId, dagId, limit) ?? [];
    if (carried.length === 0) return stored;
    if (stored.length === 0) return carried;
    return [...stored, ...carried].sort((a, b) => a.id - b.id).slice(0, limit);
  }

  #stored(afterId: number, dagId: string | undefined, limit: number): LoggedEvent[] {
    const rows = (dagId === undefined
      ? cached(
        this.#db,
        "SELECT id, dag_id, at_ms, data FROM orion_transitions WHERE id > ? ORDER BY id LIMIT ?",
      ).all(afterId, limit)
      : cached(
        this.#db,
        "SELECT id, dag_id, at_ms, data FROM orion_transitions WHERE id > ? AND dag_id = ? ORDER BY id LIMIT ?",
      ).all(afterId, dagId, limit)) as Array<{ id: number; dag_id: string; at_ms: number; data: string }>;
    return rows.map((row) => ({
      id: row.id,
      dagId: row.dag_id,
      atMs: row.at_ms,
      data: JSON.parse(row.data),
    }));
  }

  /** Subscribes to new events; returns an unsubscribe function. */
  subscribe(listener: (event: LoggedEvent) => void): () => void {
    this.#subscribers.add(listener);
    return () => this.#subscribers.delete(listener);
  }
}
