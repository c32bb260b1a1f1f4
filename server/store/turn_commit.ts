/**
 * Group commit across writers: every writer that asked during one turn of the event loop writes inside one
 * transaction at the turn's end, each in
 * its own savepoint so that a writer whose part throws is undone alone. Only after COMMIT is each writer
 * told, and only then may it publish or act on what it wrote: first every writer publishes, in the order
 * they wrote (so event ids reach subscribers in increasing order, even if acting appends more events), then
 * every writer acts. If the COMMIT fails, every writer is told that nothing of its part was stored. A writer
 * may use savepoints of its own but must not end the store's transaction.
 *
 * "The turn's end" is, by default, the end of the event loop's current iteration (`setImmediate`: it runs
 * once the I/O events ready now were handled; no timer, so a serial chain waits for nothing). Messages that
 * arrived together on several sockets each run in their own task, so a microtask flush committed each
 * apart; at the iteration's end they share one commit: a 10,000-node wide DAG on four clients went from
 * 2.3 to 1.15 transactions per node (`bench/dag_cpu_bench.ts`).
 */
import { setImmediate } from "node:timers";
import { type Database, transaction } from "./db.ts";

/** A participant in the turn's transaction. */
export interface TurnWriter {
  /** Inside the transaction: writes what the writer has queued. A throw undoes this writer's part only. */
  write(): void;
  /** After COMMIT, before any writer acts: publishes what `write` wrote (its events). */
  publish?(): void;
  /** After every writer published: what `write` wrote is stored; act on it. */
  committed(): void;
  /** What `write` wrote is not stored: it threw (its own error), or the transaction failed (that error). */
  failed(error: unknown): void;
}

/** Runs `flush` once the I/O events ready in this iteration of the event loop were handled. */
function endOfIteration(flush: () => void): void {
  setImmediate(flush);
}

/** Runs the writers of a turn in one transaction at its end. */
export class TurnCommit {
  readonly #db: Database;
  readonly #defer: (flush: () => void) => void;
  readonly #asked = new Set<TurnWriter>();
  #deferred = false;

  /** `defer` runs the flush at the turn's end (default: the end of the event loop's iteration). */
  constructor(db: Database, defer: (flush: () => void) => void = endOfIteration) {
    this.#db = db;
    this.#defer = defer;
  }

  /** Has `writer` write at the end of this turn (once, however often it asks). */
  request(writer: TurnWriter): void {
    this.#asked.add(writer);
    if (this.#deferred) return;
    this.#deferred = true;
    this.#defer(() => {
      this.#deferred = false;
      this.flush();
    });
  }

  /** Writes and commits now what was asked for this turn (for a caller that must answer before it ends). */
  flush(): void {
    if (this.#asked.size === 0) return;
    const writers = [...this.#asked];
    this.#asked.clear();
    const written: TurnWriter[] = [];
    const refused: Array<[TurnWriter, unknown]> = [];
    try {
      transaction(this.#db, () => {
        for (const writer of writers) {
          this.#db.exec("SAVEPOINT turn_writer");
          try {
            writer.write();
            written.push(writer);
          } catch (error) {
            // SQLite itself may have ended the transaction (a full disk): then the whole turn fails.
            if (!this.#db.isTransaction) throw error;
            this.#db.exec("ROLLBACK TO turn_writer");
            refused.push([writer, error]);
          }
          this.#db.exec("RELEASE turn_writer");
        }
      });
    } catch (error) {
      for (const writer of writers) {
        const own = refused.find(([w]) => w === writer);
        writer.failed(own === undefined ? error : own[1]);
      }
      return;
    }
    for (const [writer, error] of refused) writer.failed(error);
    for (const writer of written) writer.publish?.();
    for (const writer of written) writer.committed();
  }
}
