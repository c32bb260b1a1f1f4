/**
 * The step log: every step of every node attempt, durable, with the frame its decision used. A step is one
 * row in SQLite, written with its `step` event in its own small transaction, or (with `turn`, as the server
 * runs it) in the transaction its turn's other writes share, in a savepoint of its own; its frame is a JPEG under
 * `<dataDir>/frames/<dagId>/<nodeId>/<attempt>-<index>.jpg`. At most `maxFrames` frame files are kept in
 * all: each new frame past the limit deletes the oldest (their rows stay, with `frame` null).
 *
 * Logging never fails the step: a row the store refuses is logged as a warning (and reported to the store's
 * health, which retries writes), a frame that cannot be encoded or written leaves the row without one.
 */
import { dirname } from "node:path";
import type { StepEventData, StepView } from "../../shared/api_views.ts";
import type { Logger } from "../log.ts";
import type { EventLog, LoggedEvent } from "../orion/event_log.ts";
import { cached, type Database, databasePath, type Migration, transaction } from "../store/db.ts";
import { toStorageError } from "../store/errors.ts";
import type { StoreHealth } from "../store/health.ts";
import type { TurnCommit, TurnWriter } from "../store/turn_commit.ts";
import { storedJpeg } from "./frame_jpeg.ts";
import type { Frame, StepEntry } from "./types.ts";

/** The step table. */
export const STEP_LOG_MIGRATIONS: readonly Migration[] = [{
  id: 40,
  name: "step log",
  sql: `CREATE TABLE step_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dag_id TEXT NOT NULL,
    node_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    step_index INTEGER NOT NULL,
    type TEXT NOT NULL,
    args TEXT NOT NULL,
    started_at_ms INTEGER NOT NULL,
    ended_at_ms INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    error TEXT,
    output TEXT,
    frame TEXT
  );
  CREATE UNIQUE INDEX step_log_step ON step_log (dag_id, node_id, attempt, step_index);
  CREATE INDEX step_log_frames ON step_log (id) WHERE frame IS NOT NULL;`,
}];

/** Frame files kept in all unless told otherwise. */
export const DEFAULT_MAX_STEP_FRAMES = 2000;
/** Largest `args` or `output` kept per step, as JSON text. */
export const MAX_STEP_JSON_BYTES = 64 * 1024;
/** Largest `args` or `output` a `step` event carries (the REST route has the full one). */
export const MAX_STEP_EVENT_JSON_BYTES = 4 * 1024;

/** What the step log needs. */
export interface StepLogDeps {
  db: Database;
  /** Frames go under `<dataDir>/frames/`. */
  dataDir: string;
  logger: Logger;
  /** Each step is also an event on `GET /api/events`, appended with its row. */
  events?: EventLog;
  /** Told when the store refuses a row, so the server reports read-only and retries writes. */
  health?: Pick<StoreHealth, "failed">;
  /** The store file, for messages. */
  file?: string;
  /** Frame files kept in all (default `DEFAULT_MAX_STEP_FRAMES`); 0 keeps none. */
  maxFrames?: number;
  /** Turns a frame into the JPEG bytes to keep (default `storedJpeg`: as is, or re-encoded with sharp). */
  encodeFrame?: (frame: Frame) => Promise<Uint8Array>;
  /**
   * The store's group commit: steps are then written at the end of their turn, in the transaction the turn's
   * other writers share, instead of one small transaction each; their events are published after it.
   */
  turn?: TurnCommit;
}

/** A step waiting for the turn's transaction. */
interface QueuedStep {
  entry: StepEntry;
  frame: Frame | undefined;
  relative: string | null;
  /** Settles once the step is stored and its frame written, or given up. */
  settled: PromiseWithResolvers<void>;
  stored?: { event: LoggedEvent | null; unused: string[] };
  error?: unknown;
}

const encoder = new TextEncoder();

/**
 * `value` as JSON text of at most `maxBytes` bytes. Longer text becomes a marker,
 * `{"truncated": true, "byteLength": <full length>, "head": "<the text's beginning>"}`; a value JSON
 * cannot represent becomes `{"unserializable": "<why>"}`.
 */
export function capJson(value: unknown, maxBytes: number = MAX_STEP_JSON_BYTES): string {
  let text: string;
  try {
    text = JSON.stringify(value ?? null) ?? "null";
  } catch (error) {
    text = JSON.stringify({ unserializable: error instanceof Error ? error.message : String(error) });
  }
  const byteLength = encoder.encode(text).byteLength;
  if (byteLength <= maxBytes) return text;
  for (let head = text.slice(0, maxBytes);; head = head.slice(0, Math.floor(head.length * 0.9))) {
    const marker = JSON.stringify({ truncated: true, byteLength, head });
    if (encoder.encode(marker).byteLength <= maxBytes) return marker;
  }
}

/**
 * A step's args or output for its event (at most `MAX_STEP_EVENT_JSON_BYTES`), from the text stored for its
 * row: that text as it is when it is surely short enough (UTF-8 takes at most 3 bytes per UTF-16 unit), else
 * the value capped again at the event's size.
 */
function eventJson(stored: string, value: unknown): unknown {
  return JSON.parse(
    stored.length * 3 <= MAX_STEP_EVENT_JSON_BYTES ? stored : capJson(value, MAX_STEP_EVENT_JSON_BYTES),
  );
}

/** The URL path of a step's frame. */
export function frameUrl(dagId: string, nodeId: string, attempt: number, index: number): string {
  const [dag, node] = [dagId, nodeId].map(encodeURIComponent);
  return `/api/dags/${dag}/nodes/${node}/steps/${attempt}/${index}/frame`;
}

/** An id as a path segment: ids may be `.` or `..`, so a leading dot is escaped (`%` is never in an id). */
function segment(id: string): string {
  return id.replace(/^\./, "%2E");
}

interface StepRow {
  dag_id: string;
  node_id: string;
  attempt: number;
  step_index: number;
  type: string;
  args: string;
  started_at_ms: number;
  ended_at_ms: number;
  ok: number;
  error: string | null;
  output: string | null;
  frame: string | null;
}

function viewOf(row: StepRow): StepView {
  return {
    attempt: row.attempt,
    index: row.step_index,
    type: row.type,
    args: JSON.parse(row.args),
    startedAt: row.started_at_ms,
    endedAt: row.ended_at_ms,
    ok: row.ok === 1,
    error: row.error === null ? null : JSON.parse(row.error),
    output: row.output === null ? null : JSON.parse(row.output),
    frame: row.frame === null ? null : frameUrl(row.dag_id, row.node_id, row.attempt, row.step_index),
  };
}

/** Keeps steps and their frames. */
export class StepLog {
  readonly #deps: StepLogDeps;
  readonly #framesDir: string;
  readonly #maxFrames: number;
  /** Frame files being written, by relative path: a reader waits for its file. */
  readonly #writing = new Map<string, Promise<void>>();
  /** Deletions of frames no row refers to any more, still under way. */
  readonly #removing = new Set<Promise<void>>();
  /** Steps waiting for the turn's transaction, and those being written in it. */
  #queued: QueuedStep[] = [];
  #inTurn: QueuedStep[] = [];
  #closed = false;

  constructor(deps: StepLogDeps) {
    this.#deps = deps;
    this.#framesDir = `${deps.dataDir}/frames`;
    this.#maxFrames = deps.maxFrames ?? DEFAULT_MAX_STEP_FRAMES;
  }

  /**
   * Logs one step that ended, with the frame its decision used. The row and its event are written before
   * this returns (with `turn`: at the end of this turn, before the event is published); the promise settles
   * once the frame file is written (or given up) and the frames the row replaced or retention dropped are
   * deleted. Never throws or rejects.
   */
  append(entry: StepEntry, frame?: Frame): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const relative = frame !== undefined && this.#maxFrames > 0
      ? `${segment(entry.dagId)}/${segment(entry.nodeId)}/${entry.attempt}-${entry.index}.jpg`
      : null;
    if (this.#deps.turn !== undefined) {
      const queued: QueuedStep = { entry, frame, relative, settled: Promise.withResolvers() };
      this.#queued.push(queued);
      this.#deps.turn.request(this.#writer);
      return queued.settled.promise;
    }
    let stored: { event: LoggedEvent | null; unused: string[] };
    try {
      stored = transaction(this.#deps.db, () => this.#insert(entry, relative));
    } catch (error) {
      this.#refused(entry, error);
      return Promise.resolve();
    }
    if (stored.event !== null) this.#deps.events!.publish([stored.event]);
    return this.#stored(stored, relative, frame);
  }

  /** After the row's COMMIT (and its event's publication): frames it replaced deleted, its own frame written. */
  #stored(
    stored: { event: LoggedEvent | null; unused: string[] },
    relative: string | null,
    frame: Frame | undefined,
  ): Promise<void> {
    const removed = stored.unused.length === 0 ? null : this.#removeAll(stored.unused);
    if (relative === null) return removed ?? Promise.resolve();
    const written = this.#write(relative, frame!).finally(() => {
      if (this.#writing.get(relative) === written) this.#writing.delete(relative);
    });
    this.#writing.set(relative, written);
    return removed === null ? written : Promise.all([removed, written]).then(() => {});
  }

  /** Deletes frames no row refers to any more; `close` waits for deletions still under way. */
  #removeAll(paths: readonly string[]): Promise<void> {
    const removing = Promise.all(paths.map((path) => this.#remove(path))).then(() => {
      this.#removing.delete(removing);
    });
    this.#removing.add(removing);
    return removing;
  }

  /** The step log's part of the store's group commit: each step in its own savepoint, so one refused row stays alone. */
  readonly #writer: TurnWriter = {
    write: () => {
      this.#inTurn = this.#queued.splice(0);
      const { db } = this.#deps;
      for (const step of this.#inTurn) {
        db.exec("SAVEPOINT step_log_row");
        try {
          step.stored = this.#insert(step.entry, step.relative);
        } catch (error) {
          if (!db.isTransaction) throw error;
          db.exec("ROLLBACK TO step_log_row");
          step.error = error;
        }
        db.exec("RELEASE step_log_row");
      }
    },
    publish: () => {
      const events = this.#inTurn.flatMap((step) => step.stored?.event ?? []);
      if (events.length > 0) this.#deps.events!.publish(events);
    },
    committed: () => {
      for (const step of this.#inTurn.splice(0)) {
        if (step.stored === undefined) {
          this.#refused(step.entry, step.error);
          step.settled.resolve();
        } else {
          step.settled.resolve(this.#stored(step.stored, step.relative, step.frame));
        }
      }
    },
    failed: (error) => {
      for (const step of this.#inTurn.splice(0)) {
        this.#refused(step.entry, error);
        step.settled.resolve();
      }
    },
  };

  /** The steps of a node, every attempt, in order. */
  list(dagId: string, nodeId: string): StepView[] {
    const rows = this.#deps.db.prepare(
      "SELECT * FROM step_log WHERE dag_id = ? AND node_id = ? ORDER BY attempt, step_index",
    ).all(dagId, nodeId) as unknown as StepRow[];
    return rows.map(viewOf);
  }

  /** A step's frame as JPEG bytes; null when the step has none (never had one, or retention deleted it). */
  async frame(
    dagId: string,
    nodeId: string,
    attempt: number,
    index: number,
  ): Promise<Uint8Array<ArrayBuffer> | null> {
    const named = () =>
      (this.#deps.db.prepare(
        "SELECT frame FROM step_log WHERE dag_id = ? AND node_id = ? AND attempt = ? AND step_index = ?",
      ).get(dagId, nodeId, attempt, index) as { frame: string | null } | undefined)?.frame ?? null;
    const relative = named();
    if (relative === null) return null;
    await this.#writing.get(relative);
    if (named() !== relative) return null;
    try {
      return await Deno.readFile(`${this.#framesDir}/${relative}`);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return null;
      throw error;
    }
  }

  /** Takes no more steps and waits for frames being written. */
  async close(): Promise<void> {
    this.#deps.turn?.flush();
    this.#closed = true;
    await Promise.all([...this.#writing.values(), ...this.#removing]);
  }

  /** Inside the transaction: the row (replacing an earlier one for the same step), retention, the event. */
  #insert(entry: StepEntry, relative: string | null): { event: LoggedEvent | null; unused: string[] } {
    const { db } = this.#deps;
    const key = [entry.dagId, entry.nodeId, entry.attempt, entry.index] as const;
    const unused: string[] = [];
    const earlier = cached(
      db,
      "DELETE FROM step_log WHERE dag_id = ? AND node_id = ? AND attempt = ? AND step_index = ? RETURNING frame",
    ).get(...key) as { frame: string | null } | undefined;
    if (earlier?.frame != null && earlier.frame !== relative) unused.push(earlier.frame);
    const args = capJson(entry.args);
    const output = entry.output === undefined ? null : capJson(entry.output);
    const error = entry.error === null ? null : JSON.stringify(entry.error);
    cached(
      db,
      `INSERT INTO step_log (dag_id, node_id, attempt, step_index, type, args, started_at_ms, ended_at_ms,
        ok, error, output, frame) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      ...key,
      entry.type,
      args,
      entry.startedAt,
      entry.endedAt,
      entry.ok ? 1 : 0,
      error,
      output,
      relative,
    );
    if (relative !== null) unused.push(...this.#evict(this.#maxFrames));
    if (this.#deps.events === undefined) return { event: null, unused };
    const data: StepEventData = {
      kind: "step",
      nodeId: entry.nodeId,
      attempt: entry.attempt,
      index: entry.index,
      type: entry.type,
      args: eventJson(args, entry.args),
      startedAt: entry.startedAt,
      endedAt: entry.endedAt,
      ok: entry.ok,
      error: entry.error,
      output: eventJson(output ?? "null", entry.output),
      frame: relative === null ? null : frameUrl(entry.dagId, entry.nodeId, entry.attempt, entry.index),
    };
    return { event: this.#deps.events.appendStep(entry.dagId, entry.endedAt, data), unused };
  }

  /** Nulls the frames of all but the `keep` newest rows that have one; returns their files. */
  #evict(keep: number): string[] {
    const { db } = this.#deps;
    const cutoff = cached(
      db,
      "SELECT id FROM step_log WHERE frame IS NOT NULL ORDER BY id DESC LIMIT 1 OFFSET ?",
    ).get(keep) as { id: number } | undefined;
    if (cutoff === undefined) return [];
    const rows = cached(db, "SELECT frame FROM step_log WHERE frame IS NOT NULL AND id <= ?")
      .all(cutoff.id) as Array<{ frame: string }>;
    cached(db, "UPDATE step_log SET frame = NULL WHERE frame IS NOT NULL AND id <= ?").run(cutoff.id);
    return rows.map((row) => row.frame);
  }

  /** Encodes and writes a frame (atomically: a reader never sees half a file); on failure the row loses it. */
  async #write(relative: string, frame: Frame): Promise<void> {
    const file = `${this.#framesDir}/${relative}`;
    try {
      const jpeg = await (this.#deps.encodeFrame ?? storedJpeg)(frame);
      await Deno.mkdir(dirname(file), { recursive: true });
      await Deno.writeFile(`${file}.partial`, jpeg);
      await Deno.rename(`${file}.partial`, file);
    } catch (error) {
      this.#deps.logger.warn("Cannot keep a step's frame; the step is logged without it", {
        frame: relative,
        error: error instanceof Error ? error.message : String(error),
      });
      await Deno.remove(`${file}.partial`).catch(() => {});
      this.#forget(relative);
      return;
    }
    // Retention may have taken it while it was being written (a tiny limit, many frames at once).
    if (this.#named(relative)) return;
    await this.#remove(relative);
  }

  #named(relative: string): boolean {
    try {
      return this.#deps.db.prepare("SELECT 1 FROM step_log WHERE frame = ?").get(relative) !== undefined;
    } catch {
      return true;
    }
  }

  #forget(relative: string): void {
    try {
      this.#deps.db.prepare("UPDATE step_log SET frame = NULL WHERE frame = ?").run(relative);
    } catch (error) {
      this.#deps.logger.warn("Cannot clear a lost frame from its step", {
        frame: relative,
        error: String(error),
      });
    }
  }

  async #remove(relative: string): Promise<void> {
    try {
      await Deno.remove(`${this.#framesDir}/${relative}`);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      this.#deps.logger.warn("Cannot delete an old step frame", { frame: relative, error: String(error) });
    }
  }

  #refused(entry: StepEntry, error: unknown): void {
    const step = { dagId: entry.dagId, nodeId: entry.nodeId, attempt: entry.attempt, index: entry.index };
    const storage = toStorageError(error, this.#deps.file ?? databasePath(this.#deps.dataDir));
    if (storage === null) {
      this.#deps.logger.error("Cannot log a step: unexpected error; the step goes on", {
        ...step,
        error: String(error),
      });
      return;
    }
    this.#deps.logger.warn("Cannot log a step: the store refused it; the step goes on", {
      ...step,
      code: storage.code,
      sqlite: storage.detail,
    });
    this.#deps.health?.failed(storage);
  }
}
