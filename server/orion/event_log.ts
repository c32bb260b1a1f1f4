/**
 * The durable history of every transition: appended in the same transaction as the state change it
 * describes, numbered by an increasing id, replayed to SSE clients from any `Last-Event-ID`. Device state
 * changes share the table and the id sequence; they carry no DAG, so a per-DAG query never returns them.
 * Steps of node attempts share them too, with their DAG (a per-DAG query returns them).
 */
import type { Failure } from "../../shared/protocol/mod.ts";
import type { DeviceState } from "../gateway/types.ts";
import { cached, type Database, type Migration } from "../store/db.ts";

/** The transitions table. */
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

/** A step of a node attempt as logged (the step log's view of it, `frame` a URL path or null). */
export interface StepEventData {
  kind: "step";
  nodeId: string;
  attempt: number;
  index: number;
  type: string;
  args: unknown;
  startedAt: number;
  endedAt: number;
  ok: boolean;
  error: Failure | null;
  output: unknown;
  frame: string | null;
}

/** Whether a logged event is a step of a node attempt. */
export function isStepEvent(event: LoggedEvent): boolean {
  return event.dagId !== NO_DAG && event.data.kind === "step";
}

/** Appends transitions and streams them to subscribers. */
export class EventLog {
  readonly #db: Database;
  readonly #subscribers = new Set<(event: LoggedEvent) => void>();

  constructor(db: Database) {
    this.#db = db;
  }

  /** Appends one transition (call inside the state change's transaction); returns it with its id. */
  append(dagId: string, atMs: number, data: Record<string, unknown>): LoggedEvent {
    const result = cached(this.#db, "INSERT INTO orion_transitions (dag_id, at_ms, data) VALUES (?, ?, ?)")
      .run(
        dagId,
        atMs,
        JSON.stringify(data),
      );
    return { id: Number(result.lastInsertRowid), dagId, atMs, data };
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
    const row = cached(this.#db, "SELECT seq FROM sqlite_sequence WHERE name = 'orion_transitions'").get() as
      | { seq: number }
      | undefined;
    return row === undefined ? 0 : Number(row.seq);
  }

  /** Tells subscribers about events already committed. */
  publish(events: readonly LoggedEvent[]): void {
    for (const event of events) for (const subscriber of this.#subscribers) subscriber(event);
  }

  /** Events after `afterId`, oldest first, optionally for one DAG. */
  since(afterId: number, dagId?: string, limit = 10_000): LoggedEvent[] {
    const rows = (dagId === undefined
      ? this.#db.prepare(
        "SELECT id, dag_id, at_ms, data FROM orion_transitions WHERE id > ? ORDER BY id LIMIT ?",
      ).all(
        afterId,
        limit,
      )
      : this.#db.prepare(
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
