/**
 * The durable history of every transition: appended in the same transaction as the state change it
 * describes, numbered by an increasing id, replayed to SSE clients from any `Last-Event-ID`.
 */
import type { Database, Migration } from "../store/db.ts";

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

/** Appends transitions and streams them to subscribers. */
export class EventLog {
  readonly #db: Database;
  readonly #subscribers = new Set<(event: LoggedEvent) => void>();

  constructor(db: Database) {
    this.#db = db;
  }

  /** Appends one transition (call inside the state change's transaction); returns it with its id. */
  append(dagId: string, atMs: number, data: Record<string, unknown>): LoggedEvent {
    const result = this.#db.prepare("INSERT INTO orion_transitions (dag_id, at_ms, data) VALUES (?, ?, ?)")
      .run(
        dagId,
        atMs,
        JSON.stringify(data),
      );
    return { id: Number(result.lastInsertRowid), dagId, atMs, data };
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
