/**
 * The Orion shell: feeds the scheduler core with events (device arrivals and losses, runner outcomes,
 * timers, stored artifacts, operator requests) through the durable scheduler, which stores every event and
 * the transitions it caused in one transaction before anything acts on them; then carries out the
 * commands: runs attempts on devices, cancels them, arms timers. After a restart it rebuilds the state
 * from the store (snapshot + tail) and lets the core resolve what was in flight.
 */
import type { Timers } from "../../shared/clock.ts";
import type { Dag } from "../../shared/dag/schema.ts";
import { type DagEdit, type DagError, validateEdit } from "../../shared/dag/validate.ts";
import { Emitter } from "../../shared/emitter.ts";
import type { IdSource } from "../../shared/ids.ts";
import { err, ok, type Result } from "../../shared/result.ts";
import type { DagNode } from "../../shared/dag/schema.ts";
import { type ErrorCode, failure, FailureError } from "../../shared/protocol/mod.ts";
import type { ArtifactAuthorizer } from "../artifacts/transfer.ts";
import type { ArtifactStore } from "../artifacts/store.ts";
import type { KnownDevices } from "../store/known_devices.ts";
import type { DeviceView, Gateway } from "../gateway/types.ts";
import type { Logger } from "../log.ts";
import type { DagState, SchedulerCommand, SchedulerEvent, SchedulerState } from "../scheduler/types.ts";
import type { Database } from "../store/db.ts";
import type { StoreHealth } from "../store/health.ts";
import { DurableScheduler } from "./durable_scheduler.ts";
import type { EventLog } from "./event_log.ts";
import { type NodeRunner, scriptSteps } from "./node_runner.ts";
import { type DagView, dagView } from "./read_model.ts";
import { type DagSummary, type Input, ORION_STORE_MIGRATIONS, OrionStore } from "./state_store.ts";

/** The input log, the snapshot and the archive. */
export const ORION_MIGRATIONS = ORION_STORE_MIGRATIONS;

interface InFlight {
  dagId: string;
  nodeId: string;
  attempt: number;
  deviceId: string;
  controller: AbortController;
}

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
  health: StoreHealth;
  /** The data dir and the store file, for messages. */
  dataDir: string;
  file: string;
  /** Inputs between snapshots (default 10,000). */
  snapshotEveryInputs?: number;
  /** Server-observed inputs queued while the store refuses writes (default 10,000). */
  maxPendingInputs?: number;
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
  readonly #timers = new Map<string, unknown>();
  readonly #inFlight = new Map<string, InFlight>();
  /** Busy as last reported per device, so `device-busy` fires on changes only. */
  readonly #busyShown = new Map<string, boolean>();
  /** Devices an operator drives now: the idle timer that hands them back to placement. */
  readonly #operatorIdle = new Map<string, unknown>();
  #unsubscribe: Array<() => void> = [];
  #closed = false;

  constructor(deps: OrionDeps) {
    this.#deps = deps;
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
      busyDags: () => new Set([...this.#inFlight.values()].map((flight) => flight.dagId)),
      onOverflow: () => this.#stopEverything("the store refused writes for too long"),
      snapshotEveryInputs: deps.snapshotEveryInputs,
      maxPendingInputs: deps.maxPendingInputs,
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
    this.#running(id, "cancel");
    this.#durable.submit({ type: "cancel-dag", dagId: id, reason });
    return this.view(id)!;
  }

  /**
   * Edits a running DAG (adds nodes, removes unstarted ones) after checking the edit against its live
   * state; a refusal comes back with every error and whether it is a conflict (a cycle, or a started or
   * finished node). Throws `unknown-dag` or `dag-finished`.
   */
  editDag(id: string, edit: DagEdit): Result<DagView, { conflict: boolean; errors: DagError[] }> {
    const dag = this.#running(id, "edit");
    const states = new Map(dag.order.map((nodeId) => [nodeId, dag.nodes[nodeId].status as string]));
    const checked = validateEdit(dag.order.map((nodeId) => dag.nodes[nodeId].spec), states, edit);
    if (!checked.ok) {
      const conflict = checked.error.some((e) => e.rule === "edit-untouched" || e.code === "cycle");
      return err({ conflict, errors: checked.error });
    }
    this.#durable.submit({
      type: "edit-dag",
      dagId: id,
      added: checked.value.added,
      removed: checked.value.removed,
    });
    return ok(this.view(id)!);
  }

  #running(id: string, what: "cancel" | "edit"): DagState {
    const dag = this.#durable.dag(id);
    if (dag === undefined) throw new FailureError(failure("unknown-dag", id));
    if (dag.status !== "running") {
      throw new FailureError({
        code: "dag-finished",
        message: `Cannot ${what}: DAG ${dag.id} is ${dag.status}`,
        retryable: false,
      });
    }
    return dag;
  }

  /** Every DAG's summary, archived and live, in submission order. */
  dags(): DagSummary[] {
    return this.#durable.dags();
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
    const clock = this.#deps.clock;
    const idle = this.#operatorIdle.get(deviceId);
    if (idle === undefined) this.#durable.record({ type: "device-updated", deviceId, busy: true });
    clock.clearTimeout(idle);
    this.#operatorIdle.set(
      deviceId,
      clock.setTimeout(() => {
        this.#operatorIdle.delete(deviceId);
        this.#durable.record({ type: "device-updated", deviceId, busy: false });
      }, this.#deps.operatorIdleMs ?? 2000),
    );
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
  readonly authorize: ArtifactAuthorizer = {
    upload: (deviceId, taskId, artifact) => {
      const found = this.#taskFor(deviceId, taskId);
      if (typeof found === "string") return found;
      return found.node.outputs.some((o) => o.artifact === artifact)
        ? { dagId: found.flight.dagId, nodeId: found.flight.nodeId }
        : "not-your-work";
    },
    download: (deviceId, taskId, artifact) => {
      const found = this.#taskFor(deviceId, taskId);
      if (typeof found === "string") return found;
      return found.node.inputs.some((i) => i.artifact === artifact)
        ? { dagId: found.flight.dagId }
        : "not-your-work";
    },
  };

  /**
   * Stops timers and in-flight attempts without recording them (the next start resolves them), then
   * snapshots the state so the next start replays nothing.
   */
  close(): void {
    this.#closed = true;
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    for (const idle of this.#operatorIdle.values()) this.#deps.clock.clearTimeout(idle);
    this.#operatorIdle.clear();
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
    for (const timer of this.#timers.values()) this.#deps.clock.clearTimeout(timer);
    this.#timers.clear();
    for (const flight of this.#inFlight.values()) flight.controller.abort(reason);
  }

  #taskFor(deviceId: string, taskId: string): { flight: InFlight; node: DagNode } | ErrorCode {
    const flight = this.#inFlight.get(taskId);
    if (flight === undefined) return "unknown-task";
    if (flight.deviceId !== deviceId) return "not-your-work";
    const node = this.#durable.state.dags[flight.dagId]?.nodes[flight.nodeId];
    return node === undefined ? "unknown-task" : { flight, node: node.spec };
  }

  #executeAll(commands: SchedulerCommand[], input: Input): void {
    for (const command of commands) this.#execute(command);
    if (input.type === "server-restarted" && !this.#closed) this.#announceDevices();
    this.#reportBusy();
  }

  /** Emits `device-busy` for each device whose GUI state changed with the last input. */
  #reportBusy(): void {
    for (const [id, device] of Object.entries(this.#durable.state.devices)) {
      const busy = device.gui > 0;
      if ((this.#busyShown.get(id) ?? false) === busy) continue;
      this.#busyShown.set(id, busy);
      this.events.emit("device-busy", id, busy);
    }
  }

  #execute(command: SchedulerCommand): void {
    switch (command.type) {
      case "run-attempt":
        return void this.#run(command);
      case "cancel-attempt":
        for (const flight of this.#inFlight.values()) {
          if (
            flight.dagId === command.dagId && flight.nodeId === command.nodeId &&
            flight.attempt === command.attempt
          ) {
            flight.controller.abort(command.reason);
          }
        }
        return;
      case "start-timer": {
        const clock = this.#deps.clock;
        clock.clearTimeout(this.#timers.get(command.timerId));
        const delayMs = Math.max(0, command.atMs - clock.now());
        this.#timers.set(
          command.timerId,
          clock.setTimeout(() => {
            this.#timers.delete(command.timerId);
            this.#durable.record({ type: "timer-fired", timerId: command.timerId });
          }, delayMs),
        );
        return;
      }
      case "cancel-timer":
        this.#deps.clock.clearTimeout(this.#timers.get(command.timerId));
        this.#timers.delete(command.timerId);
        return;
      case "record":
        return;
    }
  }

  async #run(command: Extract<SchedulerCommand, { type: "run-attempt" }>): Promise<void> {
    const { dagId, nodeId, attempt, deviceId, deadlineMs } = command;
    const node = this.#durable.state.dags[dagId].nodes[nodeId].spec;
    const taskId = `${dagId}.${nodeId}.${attempt}`;
    const flight: InFlight = {
      dagId,
      nodeId,
      attempt,
      deviceId,
      controller: new AbortController(),
    };
    this.#inFlight.set(taskId, flight);
    const ended = (ok: boolean, failure?: { code: ErrorCode; message: string; retryable: boolean }) => {
      this.#inFlight.delete(taskId);
      this.#durable.record({ type: "attempt-ended", dagId, nodeId, attempt, ok, failure });
    };
    try {
      const inputs = [];
      for (const input of node.inputs) {
        const meta = await this.#deps.store.describe(dagId, input.artifact);
        if (meta === null) {
          return ended(false, {
            code: "internal",
            message: `Cannot start: artifact ${input.artifact} is missing`,
            retryable: false,
          });
        }
        inputs.push({ ...input, size: meta.size, sha256: meta.sha256 });
      }
      const outcome = await this.#deps.runner.run({
        deviceId,
        source: scriptSteps(node.kind === "script" ? node.steps : []),
        onAccepted: () => this.#durable.record({ type: "attempt-accepted", dagId, nodeId, attempt }),
        task: {
          taskId,
          dagId,
          nodeId,
          attempt,
          kind: node.kind === "agent" ? "agent" : "script",
          goal: node.kind === "agent" ? node.goal : undefined,
          inputs,
          outputs: node.outputs,
          deadlineMs,
        },
      }, flight.controller.signal);
      if (this.#closed) return;
      if (!outcome.ok) return ended(false, outcome.failure);
      for (const output of node.outputs) {
        if (!(await this.#deps.store.has(dagId, output.artifact))) {
          const message = `Cannot finish: output ${output.artifact} (${output.file}) was not uploaded`;
          return ended(false, { code: "action-failed", message, retryable: true });
        }
      }
      ended(true);
    } catch (error) {
      this.#deps.logger.error("attempt failed unexpectedly", { taskId, error: String(error) });
      ended(false, { code: "internal", message: String(error), retryable: true });
    }
  }
}
