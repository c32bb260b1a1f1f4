/**
 * The Orion shell: feeds the scheduler core with events (device arrivals and losses, runner outcomes,
 * timers, stored artifacts, operator requests) through the durable scheduler, which stores every event and
 * the transitions it caused in one transaction before anything acts on them; then carries out the
 * commands: runs attempts on devices, cancels them, arms timers. After a restart it rebuilds the state
 * from the store (snapshot + tail) and lets the core resolve what was in flight.
 */
import { KeyedTimers, type Timers } from "../../shared/clock.ts";
import type { Dag } from "../../shared/dag/schema.ts";
import type { DagEdit } from "../../shared/dag/validate.ts";
import { Emitter } from "../../shared/emitter.ts";
import type { IdSource } from "../../shared/ids.ts";
import { ok, type Result } from "../../shared/result.ts";
import type { ArtifactAuthorizer } from "../artifacts/transfer.ts";
import type { ArtifactStore } from "../artifacts/store.ts";
import type { KnownDevices } from "../store/known_devices.ts";
import type { DeviceView, Gateway } from "../gateway/types.ts";
import type { Logger } from "../log.ts";
import type { SchedulerCommand, SchedulerEvent, SchedulerState } from "../scheduler/types.ts";
import type { Database } from "../store/db.ts";
import type { StoreHealth } from "../store/health.ts";
import type { TurnCommit } from "../store/turn_commit.ts";
import { DurableScheduler, SNAPSHOT_INPUTS_PER_LIVE_NODE } from "./durable_scheduler.ts";
import type { EventLog } from "./event_log.ts";
import { type AgentSetup, Attempts } from "./attempts.ts";
import type { NodeRunner } from "./node_runner.ts";
import { checkEdit, type DagView, dagView, type EditRefusal, runningDag } from "./read_model.ts";
import { type DagSummary, type Input, ORION_STORE_MIGRATIONS, OrionStore } from "./state_store.ts";

/** The input log, the snapshot and the archive. */
export const ORION_MIGRATIONS = ORION_STORE_MIGRATIONS;

/** Dependencies of the service. */
export interface OrionDeps {
  db: Database;
  log: EventLog;
  gateway: Gateway;
  runner: NodeRunner;
  store: ArtifactStore;
  clock: Timers;
  logger: Logger;
  devices: KnownDevices;
  /** How long a device counts as in use after an operator's last action on it (default 2 s). */
  operatorIdleMs?: number;
  /** DAG ids (default random UUIDs). */
  newId: IdSource;
  /** The model and budgets agent nodes use; null when none is configured. */
  agent?: AgentSetup | null;
  health: StoreHealth;
  /** The data dir and the store file, for messages. */
  dataDir: string;
  file: string;
  /** Inputs between snapshots (default 10,000). */
  snapshotEveryInputs?: number;
  /** Server-observed inputs queued while the store refuses writes (default 10,000). */
  maxPendingInputs?: number;
  /** The store's group commit, shared with the other writers of a turn (default: the scheduler's own). */
  turn?: TurnCommit;
}

/** What the service reports, as typed events. */
export type OrionEvents = {
  /** A device's screen was taken by a GUI node, or given back. */
  "device-busy": [deviceId: string, busy: boolean];
};

/** Runs DAGs. */
export class OrionService {
  readonly events: Emitter<OrionEvents>;
  readonly #deps: OrionDeps;
  readonly #durable: DurableScheduler;
  readonly #timers: KeyedTimers;
  readonly #attempts: Attempts;
  /** Devices last reported busy, so `device-busy` fires on changes only. */
  readonly #busyShown = new Set<string>();
  /** Devices an operator drives now: the idle timer that hands them back to placement. */
  readonly #operatorIdle: KeyedTimers;
  #unsubscribe: Array<() => void> = [];
  #closed = false;

  constructor(deps: OrionDeps) {
    this.#deps = deps;
    this.#timers = new KeyedTimers(deps.clock);
    this.#operatorIdle = new KeyedTimers(deps.clock);
    this.#attempts = new Attempts({
      runner: deps.runner,
      agent: deps.agent ?? null,
      device: (deviceId) => deps.gateway.device(deviceId),
      store: deps.store,
      logger: deps.logger,
      spec: (dagId, nodeId) => this.#durable.state.dags[dagId]?.nodes[nodeId]?.spec,
      record: (event) => this.#durable.record(event),
      stopping: () => this.#closed,
    });
    this.events = new Emitter<OrionEvents>((error) =>
      deps.logger.warn("orion listener failed", { error: String(error) })
    );
    this.#durable = new DurableScheduler({
      db: deps.db,
      store: new OrionStore({ db: deps.db, devices: deps.devices, file: deps.file, dataDir: deps.dataDir }),
      log: deps.log,
      health: deps.health,
      clock: deps.clock,
      logger: deps.logger,
      file: deps.file,
      execute: (commands, input) => this.#executeAll(commands, input),
      busyDags: () => this.#attempts.dagIds(),
      onOverflow: () => this.#stopEverything("the store refused writes for too long"),
      snapshotEveryInputs: deps.snapshotEveryInputs,
      snapshotInputsPerLiveNode: SNAPSHOT_INPUTS_PER_LIVE_NODE,
      maxPendingInputs: deps.maxPendingInputs,
      // What the server observes in one turn of the event loop shares one commit, at the turn's end.
      defer: queueMicrotask,
      turn: deps.turn,
    });
  }

  /**
   * Rebuilds the state from the store (a damaged store throws `StoreOpenError`), resolves what was in
   * flight, and starts listening to devices.
   */
  start(): void {
    const loaded = this.#durable.load();
    this.#deps.logger.info("Scheduler state loaded", {
      file: this.#deps.file,
      dags: Object.keys(loaded.state.dags).length,
      replayedInputs: loaded.tailInputs,
    });
    const events = this.#deps.gateway.events;
    this.#unsubscribe = [
      events.on("device-ready", (device) => this.#ready(device)),
      events.on(
        "device-offline",
        (device) => this.#durable.record({ type: "device-offline", deviceId: device.id }),
      ),
      events.on(
        "device-forgotten",
        (device) => this.#durable.record({ type: "device-forgotten", deviceId: device.id }),
      ),
      events.on(
        "device-updated",
        (device) =>
          this.#durable.record({ type: "device-updated", deviceId: device.id, rttMs: device.rttMs }),
      ),
    ];
    if (loaded.hasHistory) this.#durable.record({ type: "server-restarted" });
    else this.#announceDevices();
  }

  /** The scheduler's live state, for the shell's own use and tests; readers take `view`. */
  get state(): SchedulerState {
    return this.#durable.state;
  }

  /** A DAG as readers see it (a copy), live or archived; undefined when unknown. */
  view(id: string): DagView | undefined {
    const dag = this.#durable.dag(id);
    return dag && dagView(dag, this.#deps.clock.now());
  }

  /**
   * Submits a validated DAG under a new id (from `newId`); returns its view. Throws a `StorageError` when
   * the store refuses it (nothing changes then).
   */
  submitDag(dag: Dag): DagView {
    const dagId = this.#deps.newId();
    this.#durable.submit({ type: "dag-submitted", dagId, name: dag.name, nodes: dag.nodes });
    return this.view(dagId)!;
  }

  /** Cancels a running DAG: in-flight attempts get CANCEL_TASK. Throws `unknown-dag` or `dag-finished`. */
  cancelDag(id: string, reason: string): DagView {
    runningDag(this.#durable.dag(id), id, "cancel");
    this.#durable.submit({ type: "cancel-dag", dagId: id, reason });
    return this.view(id)!;
  }

  /**
   * Edits a running DAG (adds nodes, removes unstarted ones) after checking the edit against its live
   * state; a refusal comes back with every error and whether it is a conflict (a cycle, or a started or
   * finished node). Throws `unknown-dag` or `dag-finished`.
   */
  editDag(id: string, edit: DagEdit): Result<DagView, EditRefusal> {
    const checked = checkEdit(runningDag(this.#durable.dag(id), id, "edit"), edit);
    if (!checked.ok) return checked;
    this.#durable.submit({ type: "edit-dag", dagId: id, ...checked.value });
    return ok(this.view(id)!);
  }

  /** Every DAG's summary, archived and live, in submission order. */
  dags(): DagSummary[] {
    return this.#durable.dags();
  }

  /** Whether agent nodes can run (a model is configured). */
  get hasModel(): boolean {
    return (this.#deps.agent ?? null) !== null;
  }

  /** Whether a GUI node holds the device's screen now (operators' actions are refused meanwhile). */
  isBusy(deviceId: string): boolean {
    return (this.#durable.state.devices[deviceId]?.gui ?? 0) > 0;
  }

  /**
   * An operator acts on the device now: placement keeps GUI nodes off it until `operatorIdleMs` after the
   * last such call (one `device-updated` when it starts, one when it ends).
   */
  operatorActive(deviceId: string): void {
    const record = (busy: boolean) => this.#durable.record({ type: "device-updated", deviceId, busy });
    if (!this.#operatorIdle.has(deviceId)) record(true);
    this.#operatorIdle.set(deviceId, this.#deps.operatorIdleMs ?? 2000, () => record(false));
  }

  /** Server-observed inputs waiting for the store. */
  get pendingInputs(): number {
    return this.#durable.pendingCount;
  }

  /**
   * An operator's request: stored, then acted on. Throws a `StorageError` (`storage-full`,
   * `storage-failed`) when the store refuses it; nothing changes then.
   */
  submit(event: SchedulerEvent): void {
    this.#durable.submit(event);
  }

  /** Something the server observed (an artifact arrived, ...): stored now or queued until the store takes it. */
  record(event: SchedulerEvent): void {
    this.#durable.record(event);
  }

  /** Writes a snapshot now (archiving finished DAGs); returns whether it was written. */
  snapshot(): boolean {
    return this.#durable.snapshot();
  }

  /** What the artifact transfers may do: a device moves only the files its own in-flight task declares. */
  get authorize(): ArtifactAuthorizer {
    return this.#attempts.authorize;
  }

  /**
   * Stops timers and in-flight attempts without recording them (the next start resolves them), then
   * snapshots the state so the next start replays nothing.
   */
  close(): void {
    this.#closed = true;
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.#operatorIdle.clearAll();
    this.#stopEverything("server shutting down");
    this.#durable.close();
  }

  #ready(device: DeviceView): void {
    this.#durable.record({
      type: "device-ready",
      device: { id: device.id, name: device.name, capabilities: device.capabilities, rttMs: device.rttMs },
    }, device);
  }

  /** Tells the core about every device online now (at a fresh start, and after a recovery). */
  #announceDevices(): void {
    for (const device of this.#deps.gateway.devices()) {
      if (device.state === "ready" || device.state === "busy") this.#ready(device);
    }
  }

  /** Clears the shell's timers and aborts its attempts: a recovery re-arms and retries from the state. */
  #stopEverything(reason: string): void {
    this.#timers.clearAll();
    this.#attempts.abortAll(reason);
  }

  #executeAll(commands: SchedulerCommand[], input: Input): void {
    for (const command of commands) this.#execute(command);
    if (input.type === "server-restarted" && !this.#closed) this.#announceDevices();
    this.#reportBusy(commands);
  }

  /**
   * Emits `device-busy` for each device whose GUI state changed with the last input. Only a placement
   * (`run-attempt`) makes a device busy, so the devices to look at are those shown busy and those placed on.
   */
  #reportBusy(commands: readonly SchedulerCommand[]): void {
    const devices = this.#durable.state.devices;
    // Iterated live, no copy: a device deleted meanwhile is skipped, one added is checked again (a no-op).
    for (const id of this.#busyShown) this.#reportBusyOf(id, devices);
    for (const command of commands) {
      if (command.type === "run-attempt") this.#reportBusyOf(command.deviceId, devices);
    }
  }

  #reportBusyOf(id: string, devices: SchedulerState["devices"]): void {
    const busy = (devices[id]?.gui ?? 0) > 0;
    if (this.#busyShown.has(id) === busy) return;
    if (busy) this.#busyShown.add(id);
    else this.#busyShown.delete(id);
    this.events.emit("device-busy", id, busy);
  }

  #execute(command: SchedulerCommand): void {
    switch (command.type) {
      case "run-attempt":
        return void this.#attempts.run(command);
      case "cancel-attempt":
        return this.#attempts.cancel(command);
      case "start-timer": {
        const fire = () => this.#durable.record({ type: "timer-fired", timerId: command.timerId });
        return this.#timers.set(command.timerId, command.atMs - this.#deps.clock.now(), fire);
      }
      case "cancel-timer":
        return this.#timers.clear(command.timerId);
      case "record":
        return;
    }
  }
}
