/**
 * Whether the store takes writes. The first refused write turns it read-only (logged once, with SQLite's
 * own message) and starts a retry loop with exponential backoff; the owner's retry hook flushes what is
 * queued (or probes with a tiny write); the first write that succeeds makes it writable again (logged).
 */
import type { TimerHandle, Timers } from "../../shared/clock.ts";
import type { Logger } from "../log.ts";
import type { Database, Migration } from "./db.ts";
import { transaction } from "./db.ts";
import type { StorageError, StorageErrorCode } from "./errors.ts";

/** The one-row table the probe writes to. */
export const STORE_HEALTH_MIGRATIONS: readonly Migration[] = [{
  id: 30,
  name: "store probe",
  sql: "CREATE TABLE store_probe (id INTEGER PRIMARY KEY CHECK (id = 1), probed_at_ms INTEGER NOT NULL)",
}];

/** What `GET /healthz` reports about the store. */
export type StoreHealthReport =
  | { status: "ok" }
  | {
    status: "degraded";
    store: "read-only";
    code: StorageErrorCode;
    message: string;
    /** When writes started failing (Unix ms). */
    since: number;
  };

/** Settings of the health tracker. */
export interface StoreHealthOptions {
  file: string;
  logger: Logger;
  clock: Timers;
  /** First retry after this long (default 100 ms), doubling up to `retryMaxMs` (default 5 s). */
  retryInitialMs?: number;
  retryMaxMs?: number;
}

/** Tracks whether writes succeed, and retries while they do not. */
export class StoreHealth {
  readonly #options: StoreHealthOptions;
  #failure: { error: StorageError; sinceMs: number } | null = null;
  #retry: () => void = () => {};
  #timer: TimerHandle | undefined;
  #delayMs: number;
  #closed = false;

  constructor(options: StoreHealthOptions) {
    this.#options = options;
    this.#delayMs = options.retryInitialMs ?? 100;
  }

  /** Whether the last write succeeded. */
  get writable(): boolean {
    return this.#failure === null;
  }

  /** The last refusal while read-only, else null. */
  get lastError(): StorageError | null {
    return this.#failure?.error ?? null;
  }

  /** The report for `/healthz`. */
  report(): StoreHealthReport {
    if (this.#failure === null) return { status: "ok" };
    const { error, sinceMs } = this.#failure;
    return {
      status: "degraded",
      store: "read-only",
      code: error.code,
      message: error.message,
      since: sinceMs,
    };
  }

  /** Sets what a retry does: flush queued writes, or probe when nothing is queued. */
  onRetry(retry: () => void): void {
    this.#retry = retry;
  }

  /** A write was refused: read-only from now until a write succeeds. */
  failed(error: StorageError): void {
    if (this.#failure === null) {
      this.#failure = { error, sinceMs: this.#options.clock.now() };
      this.#options.logger.error("Store is read-only: a write failed; serving reads and retrying writes", {
        file: this.#options.file,
        code: error.code,
        sqlite: error.detail,
      });
    } else {
      this.#failure.error = error;
    }
    this.#schedule();
  }

  /** A write succeeded: writable again. */
  succeeded(): void {
    if (this.#failure === null) return;
    const downMs = this.#options.clock.now() - this.#failure.sinceMs;
    this.#failure = null;
    this.#options.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#delayMs = this.#options.retryInitialMs ?? 100;
    this.#options.logger.info("Store takes writes again", { file: this.#options.file, readOnlyMs: downMs });
  }

  /** Stops retrying. */
  close(): void {
    this.#closed = true;
    this.#options.clock.clearTimeout(this.#timer);
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#closed) return;
    const delayMs = this.#delayMs;
    this.#delayMs = Math.min(this.#options.retryMaxMs ?? 5000, delayMs * 2);
    this.#timer = this.#options.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#retry();
      if (this.#failure !== null) this.#schedule();
    }, delayMs);
  }
}

/** A tiny write that tells whether the store takes writes (throws the store's error if not). */
export function probeWrite(db: Database, nowMs: number): void {
  transaction(db, () => {
    db.prepare("INSERT OR REPLACE INTO store_probe (id, probed_at_ms) VALUES (1, ?)").run(nowMs);
  });
}
