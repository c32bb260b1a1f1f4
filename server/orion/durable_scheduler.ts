/**
 * The scheduler state, durable before visible. Each input is appended and applied, and the transitions it
 * caused are recorded, in one transaction; only after COMMIT are they published and the commands carried
 * out. When the commit fails, memory is rebuilt from the store (snapshot + tail), so it is never ahead of
 * the disk. Events the server itself observed (a timer, a device's answer, a device going offline) are
 * never dropped for a refused write: they wait in order, bounded, and are retried until the store takes
 * them. Operator requests are refused instead (`storage-full`, `storage-failed`).
 *
 * Group commit: inputs recorded in one turn of the event loop are committed together, in one transaction
 * (`defer`, or the store's `TurnCommit` shared with the step log, both at the end of the turn in the
 * service): memory changes only inside that synchronous commit, so no reader, publisher or command ever
 * sees an input before the COMMIT that covers it, and a crash before it loses only inputs nothing has acted
 * on (as if they had never arrived). There is no timer: a serial chain pays nothing to wait for a batch
 * that will not grow.
 *
 * One concept, kept in one file (about 460 lines): commit, rebuild, queue, batching and snapshot are one
 * invariant — memory is never ahead of the disk — and splitting them would spread it.
 */
import type { Clock } from "../../shared/clock.ts";
import type { DeviceView } from "../gateway/types.ts";
import type { Logger } from "../log.ts";
import type { DagState, SchedulerCommand, SchedulerState } from "../scheduler/types.ts";
import { type Database, transaction } from "../store/db.ts";
import { StorageError, toStorageError } from "../store/errors.ts";
import { probeWrite, type StoreHealth } from "../store/health.ts";
import type { TurnCommit, TurnWriter } from "../store/turn_commit.ts";
import type { EventLog, LoggedEvent } from "./event_log.ts";
import { applyInput, type DagSummary, type Input, type LoadedState, type OrionStore } from "./state_store.ts";

/** Inputs kept waiting for the store before the queue is given up for a recovery (see `record`). */
export const DEFAULT_MAX_PENDING_INPUTS = 10_000;
/** Inputs between snapshots: the most a restart replays after a crash, unless the live state is larger. */
export const DEFAULT_SNAPSHOT_EVERY_INPUTS = 10_000;
/**
 * Inputs between snapshots per node of the live state (the service's setting): a snapshot writes the whole
 * live state, so spacing them by its size keeps their cost per input constant however large a DAG is,
 * while a restart replays at most this many inputs per live node after loading the snapshot.
 */
export const SNAPSHOT_INPUTS_PER_LIVE_NODE = 4;

/** What the durable scheduler needs. */
export interface DurableSchedulerDeps {
  db: Database;
  store: OrionStore;
  log: EventLog;
  health: StoreHealth;
  clock: Clock;
  logger: Logger;
  /** The store file, for messages. */
  file: string;
  /** Carries out the commands of an input once it is committed. */
  execute(commands: SchedulerCommand[], input: Input): void;
  /** DAGs the shell still has attempts winding down for: not archived yet. */
  busyDags(): ReadonlySet<string>;
  /** Queued inputs were dropped past the bound: the shell stops its attempts and timers. */
  onOverflow(): void;
  snapshotEveryInputs?: number;
  /** Spaces snapshots by the live state's size as well: at least this many inputs per live node (default 0). */
  snapshotInputsPerLiveNode?: number;
  maxPendingInputs?: number;
  /**
   * When recorded inputs are committed: `defer(flush)` is called once per batch, and `flush` commits every
   * input recorded until then in one transaction. By default at once (each input its own transaction); the
   * service passes `queueMicrotask`, so the inputs the server observes in one turn share a commit.
   */
  defer?: (flush: () => void) => void;
  /**
   * The store's group commit (instead of `defer`): recorded inputs are written in the transaction every
   * writer of the turn shares, at its end. Refused or failed batches fall back to committing on their own.
   */
  turn?: TurnCommit;
}

/** A batch appended and applied inside a transaction, not yet committed. */
interface Written {
  size: number;
  seq: number;
  logged: LoggedEvent[];
  done: Array<{ input: Input; commands: SchedulerCommand[] }>;
}

const AT_ONCE = (flush: () => void) => flush();

interface Pending {
  input: Input;
  atMs: number;
  /** For `device-ready`: the device as the gateway sees it, for the device registry. */
  device?: DeviceView;
}

/** The scheduler state with its durable log, snapshots, archive and write queue. */
export class DurableScheduler {
  readonly #deps: DurableSchedulerDeps;
  readonly #snapshotEvery: number;
  readonly #maxPending: number;
  readonly #defer: (flush: () => void) => void;
  #state: SchedulerState = { dags: {}, devices: {}, timers: {}, waiting: {}, waitSeq: 0 };
  /** Inputs not committed yet, in order: the batch being built, or those the store refused. */
  #pending: Pending[] = [];
  /** The store refused the last commit: inputs wait (bounded) for the health retry. */
  #refused = false;
  #flushDeferred = false;
  #flushing = false;
  /** Memory holds inputs applied in a transaction not yet committed: rebuild it if that transaction fails. */
  #dirty = false;
  /** The batch being written in the turn's transaction, and what writing it produced. */
  #inTurn: Pending[] = [];
  #written: Written | null = null;
  #stale = false;
  #lastSeq = 0;
  #sinceSnapshot = 0;
  /** Inputs after which the next snapshot is due (at least `snapshotEveryInputs`). */
  #snapshotDue: number;
  #closed = false;

  constructor(deps: DurableSchedulerDeps) {
    this.#deps = deps;
    this.#snapshotEvery = deps.snapshotEveryInputs ?? DEFAULT_SNAPSHOT_EVERY_INPUTS;
    this.#snapshotDue = this.#snapshotEvery;
    this.#maxPending = deps.maxPendingInputs ?? DEFAULT_MAX_PENDING_INPUTS;
    this.#defer = deps.defer ?? AT_ONCE;
    deps.log.carry(deps.store);
    deps.health.onRetry(() => this.retry());
  }

  /** Rebuilds the state from the store (throws `StoreOpenError` on damage). */
  load(): LoadedState {
    const loaded = this.#deps.store.load();
    this.#adopt(loaded);
    return loaded;
  }

  /** The live state (read-only use); throws `storage-failed` while it could not be rebuilt. */
  get state(): SchedulerState {
    if (this.#stale) {
      throw new StorageError(
        "storage-failed",
        `Cannot read the scheduler state: it could not be reloaded from ${this.#deps.file}`,
        "stale",
      );
    }
    return this.#state;
  }

  /** Inputs waiting for the store. */
  get pendingCount(): number {
    return this.#pending.length;
  }

  /** A DAG, live or archived. */
  dag(id: string): DagState | undefined {
    return this.state.dags[id] ?? this.#deps.store.archived(id);
  }

  /** Every DAG's summary, archived and live, in submission order. */
  dags(): DagSummary[] {
    const live = Object.values(this.state.dags).map((dag): DagSummary => {
      const summary: DagSummary = {
        id: dag.id,
        name: dag.name,
        state: dag.status,
        createdAt: dag.createdAtMs,
        endedAt: dag.endedAtMs,
        nodes: dag.order.length,
      };
      if (dag.status === "running") summary.progress = nodeCounts(dag);
      return summary;
    });
    const archived = this.#deps.store.archivedSummaries();
    if (archived.length === 0) return live;
    return [...archived, ...live].sort((a, b) => a.createdAt - b.createdAt);
  }

  /** An operator's request: committed and acted on now, or refused with a `StorageError`. */
  submit(input: Input): void {
    if (this.#closed) {
      throw new StorageError(
        "storage-failed",
        "Cannot store the change: the server is shutting down",
        "closed",
      );
    }
    if ((this.#pending.length > 0 || this.#stale) && !this.#flush()) {
      throw this.#deps.health.lastError ??
        new StorageError("storage-failed", `Cannot store the change: ${this.#deps.file} is not writable`, "");
    }
    try {
      this.#commit([{ input, atMs: this.#deps.clock.now() }]);
    } catch (error) {
      if (error instanceof StorageError) this.#deps.health.failed(error);
      throw error;
    }
  }

  /**
   * Something the server observed: committed now, or queued in order behind earlier ones until the store
   * takes writes. Past `maxPendingInputs` queued inputs the queue is replaced by one `server-restarted`
   * marker: once written, the core resolves what was in flight exactly as after a restart (attempts fail
   * with `server-restart` and follow their retry policy, timers are re-armed, devices re-announced).
   */
  record(input: Input, device?: DeviceView): void {
    if (this.#closed) return;
    const item: Pending = { input, atMs: this.#deps.clock.now(), device };
    if (this.#refused || this.#stale) return this.#enqueue(item);
    this.#pending.push(item);
    if (this.#pending.length >= this.#maxPending) this.#flush();
    else if (this.#deps.turn !== undefined) this.#deps.turn.request(this.#writer);
    else if (!this.#flushDeferred && !this.#flushing) {
      this.#flushDeferred = true;
      this.#defer(() => {
        this.#flushDeferred = false;
        if (!this.#closed && !this.#refused) this.#flush();
      });
    }
  }

  /** The health retry: reload if needed, flush the queue, or probe when nothing is queued. */
  retry(): void {
    if (this.#closed || !this.#flush() || this.#deps.health.writable) return;
    try {
      probeWrite(this.#deps.db, this.#deps.clock.now());
      this.#deps.health.succeeded();
    } catch (error) {
      const failure = toStorageError(error, this.#deps.file);
      if (failure === null) throw error;
      this.#deps.health.failed(failure);
    }
  }

  /**
   * Writes a snapshot covering every input so far, archiving finished DAGs (memory drops them only once
   * that is committed); returns whether it was written. A refused snapshot changes nothing.
   */
  snapshot(): boolean {
    if (this.#stale || !this.#deps.health.writable) return false;
    const busy = this.#deps.busyDags();
    const archive = Object.values(this.#state.dags).filter((dag) =>
      dag.status !== "running" && !busy.has(dag.id)
    );
    try {
      this.#deps.store.snapshot(this.#state, this.#lastSeq, this.#deps.clock.now(), archive);
    } catch (error) {
      const failure = toStorageError(error, this.#deps.file);
      if (failure === null) throw error;
      this.#deps.logger.warn("Cannot write the scheduler snapshot; the input log is kept", {
        file: this.#deps.file,
        sqlite: failure.detail,
      });
      this.#sinceSnapshot = Math.floor(this.#snapshotDue - this.#snapshotEvery / 2);
      this.#deps.health.failed(failure);
      return false;
    }
    for (const dag of archive) delete this.#state.dags[dag.id];
    this.#sinceSnapshot = 0;
    this.#snapshotDue = this.#snapshotEvery;
    return true;
  }

  /** Stops taking inputs and, if the store takes writes, snapshots so the next start replays nothing. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // Inputs of this turn are stored (and published), not acted on: the next start resolves them.
    if (!this.#refused) this.#flush();
    if (this.#pending.length > 0) {
      this.#deps.logger.warn(
        "Stopping with inputs not yet stored; the next start recovers as after a crash",
        {
          pending: this.#pending.length,
        },
      );
    }
    this.snapshot();
  }

  /**
   * Commits inputs in one transaction of their own: see `#write` and `#committed`. A refused write throws
   * its `StorageError` and memory is rebuilt from the store; so is any other failure, rethrown.
   */
  #commit(batch: readonly Pending[]): void {
    let written: Written | undefined;
    try {
      transaction(this.#deps.db, () => written = this.#write(batch));
    } catch (error) {
      if (this.#dirty) this.#reload();
      throw toStorageError(error, this.#deps.file) ?? error;
    }
    this.#publish(written!);
    this.#committed(written!);
  }

  /**
   * Inside a transaction: each input is appended, applied, and carries the transitions it caused. Memory
   * changes here; nothing is published or carried out.
   */
  #write(batch: readonly Pending[]): Written {
    const { store, log } = this.#deps;
    const logged: LoggedEvent[] = [];
    const done: Written["done"] = [];
    let seq = this.#lastSeq;
    for (const item of batch) {
      const encoded = store.encode(item.input, item.atMs, item.device);
      this.#dirty = true;
      const commands = applyInput(this.#state, item.input, item.atMs);
      const transitions = [];
      for (const command of commands) if (command.type === "record") transitions.push(command.record);
      const firstEventId = transitions.length === 0 ? 0 : log.allocate(transitions.length);
      logged.push(...store.append(++seq, item.atMs, encoded, firstEventId, transitions));
      done.push({ input: item.input, commands });
    }
    return { size: batch.length, seq, logged, done };
  }

  /** After COMMIT: memory is the disk's again, and the transitions are published. */
  #publish(written: Written): void {
    this.#dirty = false;
    this.#lastSeq = written.seq;
    this.#sinceSnapshot += written.size;
    this.#refused = false;
    this.#deps.health.succeeded();
    this.#deps.log.publish(written.logged);
  }

  /** After publishing: the commands are carried out, input by input; a snapshot if one is due. */
  #committed(written: Written): void {
    if (!this.#closed) {
      for (const { input, commands } of written.done) {
        this.#deps.execute(commands, input);
      }
    }
    if (this.#sinceSnapshot >= this.#snapshotDue) this.#snapshotIfDue();
  }

  /** This scheduler's part of the store's group commit. */
  readonly #writer: TurnWriter = {
    write: () => {
      this.#inTurn = this.#stale || this.#refused ? [] : this.#pending.splice(0);
      this.#written = this.#inTurn.length === 0 ? null : this.#write(this.#inTurn);
    },
    publish: () => {
      if (this.#written !== null) this.#publish(this.#written);
    },
    committed: () => {
      const written = this.#written;
      this.#inTurn = [];
      this.#written = null;
      if (written !== null) this.#committed(written);
    },
    failed: (error) => {
      this.#pending.unshift(...this.#inTurn);
      this.#inTurn = [];
      this.#written = null;
      if (this.#dirty) this.#reload();
      const failure = toStorageError(error, this.#deps.file);
      if (failure !== null) {
        this.#refused = true;
        this.#deps.health.failed(failure);
      } else if (!this.#closed) {
        // An input the core cannot apply: committing on our own finds it and drops it alone.
        this.#flush();
      }
    },
  };

  /** Snapshots unless the live state is large enough to wait longer (then sets when it is due). */
  #snapshotIfDue(): void {
    const perNode = this.#deps.snapshotInputsPerLiveNode ?? 0;
    let liveNodes = Object.keys(this.#state.devices).length;
    if (perNode > 0) { for (const dag of Object.values(this.#state.dags)) liveNodes += dag.order.length; }
    this.#snapshotDue = Math.max(this.#snapshotEvery, perNode * liveNodes);
    if (this.#sinceSnapshot >= this.#snapshotDue) this.snapshot();
  }

  /** Rebuilds memory from the store after a failed commit; if even that fails, refuses reads until it works. */
  #reload(): void {
    try {
      this.#adopt(this.#deps.store.load());
      this.#stale = false;
    } catch (error) {
      this.#stale = true;
      this.#deps.logger.error("Cannot reload the scheduler state from the store; retrying", {
        file: this.#deps.file,
        error: String(error),
      });
      this.#deps.health.failed(
        toStorageError(error, this.#deps.file) ??
          new StorageError(
            "storage-failed",
            `Cannot reload the scheduler state from ${this.#deps.file}`,
            String(error),
          ),
      );
    }
  }

  #adopt(loaded: LoadedState): void {
    this.#dirty = false;
    this.#state = loaded.state;
    this.#lastSeq = loaded.lastSeq;
    this.#sinceSnapshot = loaded.tailInputs;
  }

  /**
   * Commits every input not yet committed, in order, as one batch (inputs recorded while its commands are
   * carried out form the next); false when the store refuses (the rest stay queued, in order). An input
   * the core cannot apply is dropped alone: its batch is retried one input at a time.
   */
  #flush(): boolean {
    if (this.#flushing) return !this.#refused;
    if (this.#deps.turn !== undefined && !this.#refused && !this.#stale) {
      this.#deps.turn.flush();
      if (this.#refused) return false;
    }
    if (this.#stale) {
      this.#reload();
      if (this.#stale) return false;
    }
    this.#flushing = true;
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending.splice(0);
        const failedAt = this.#commitEach(
          batch.length === 1 ? [batch] : [batch, ...batch.map((item) => [item])],
        );
        if (failedAt !== null) {
          this.#pending.unshift(...failedAt);
          return false;
        }
      }
      return true;
    } finally {
      this.#flushing = false;
    }
  }

  /**
   * Commits the first batch; only if it fails for a reason other than storage, the single-input batches
   * after it (its inputs one at a time, dropping the one that cannot be applied). Returns the inputs left
   * uncommitted when the store refused (or memory could not be rebuilt), else null.
   */
  #commitEach(batches: readonly (readonly Pending[])[]): Pending[] | null {
    for (let i = 0; i < batches.length; i++) {
      try {
        this.#commit(batches[i]);
        if (i === 0) return null;
      } catch (error) {
        if (error instanceof StorageError || this.#stale) {
          if (error instanceof StorageError) {
            this.#refused = true;
            this.#deps.health.failed(error);
          }
          return i === 0 ? [...batches[0]] : batches.slice(i).flat();
        }
        if (i > 0 || batches.length === 1) this.#dropped(batches[i][0], error);
      }
    }
    return null;
  }

  #enqueue(item: Pending): void {
    if (this.#pending.length < this.#maxPending) {
      this.#pending.push(item);
      return;
    }
    this.#deps.logger.error(
      "Dropped the queued inputs past the bound; the scheduler recovers as after a restart once the store takes writes",
      { dropped: this.#pending.length + 1, bound: this.#maxPending },
    );
    this.#pending = [{ input: { type: "server-restarted" }, atMs: item.atMs }];
    this.#deps.onOverflow();
  }

  #dropped(item: Pending, error: unknown): void {
    this.#deps.logger.error("Cannot apply an input; it was dropped", {
      type: item.input.type,
      error: String(error),
    });
  }
}

/** How many of a DAG's nodes are in each state (a running DAG's `progress` in `GET /api/dags`). */
function nodeCounts(dag: DagState): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const id of dag.order) {
    const status = dag.nodes[id].status;
    counts[status] = (counts[status] ?? 0) + 1;
  }
  return counts;
}
