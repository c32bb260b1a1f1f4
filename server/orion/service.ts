/**
 * The Orion shell: feeds the scheduler core with events (device arrivals and losses, runner outcomes,
 * timers, stored artifacts, operator requests) through the durable scheduler, which stores every event and
 * the transitions it caused in one transaction before anything acts on them; then carries out the
 * commands: runs attempts on devices, cancels them, arms timers. After a restart it rebuilds the state
 * from the store (snapshot + tail) and lets the core resolve what was in flight.
 */
import type { Clock } from "../../shared/clock.ts";
import { isGuiNode } from "../../shared/dag/schema.ts";
import type { DagNode } from "../../shared/dag/schema.ts";
import type { ErrorCode } from "../../shared/protocol/mod.ts";
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
import { type DagSummary, type Input, ORION_STORE_MIGRATIONS, OrionStore } from "./state_store.ts";

/** The input log, the snapshot and the archive. */
export const ORION_MIGRATIONS = ORION_STORE_MIGRATIONS;

interface InFlight {
  dagId: string;
  nodeId: string;
  attempt: number;
  deviceId: string;
  controller: AbortController;
  gui: boolean;
}

/** Dependencies of the service. */
export interface OrionDeps {
  db: Database;
  log: EventLog;
  gateway: Gateway;
  runner: NodeRunner;
  store: ArtifactStore;
  clock: Clock;
  logger: Logger;
  devices: KnownDevices;
  health: StoreHealth;
  /** The data dir and the store file, for messages. */
  dataDir: string;
  file: string;
  /** Inputs between snapshots (default 10,000). */
  snapshotEveryInputs?: number;
  /** Server-observed inputs queued while the store refuses writes (default 10,000). */
  maxPendingInputs?: number;
}

/** Runs DAGs. */
export class OrionService {
  readonly #deps: OrionDeps;
  readonly #durable: DurableScheduler;
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>();
  readonly #inFlight = new Map<string, InFlight>();
  readonly #guiLoad = new Map<string, number>();
  #unsubscribe: () => void = () => {};
  #closed = false;

  constructor(deps: OrionDeps) {
    this.#deps = deps;
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
    this.#unsubscribe = this.#deps.gateway.subscribe({
      deviceReady: (device) => this.#ready(device),
      deviceOffline: (device) => this.#durable.record({ type: "device-offline", deviceId: device.id }),
    });
    if (loaded.hasHistory) this.#durable.record({ type: "server-restarted" });
    else this.#announceDevices();
  }

  /** The scheduler's live state (read-only use); throws `storage-failed` while it cannot be trusted. */
  get state(): SchedulerState {
    return this.#durable.state;
  }

  /** A DAG, live or archived (same shape either way). */
  dag(id: string): DagState | undefined {
    return this.#durable.dag(id);
  }

  /** Every DAG's summary, archived and live, in submission order. */
  dags(): DagSummary[] {
    return this.#durable.dags();
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
    this.#unsubscribe();
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
    for (const timer of this.#timers.values()) clearTimeout(timer);
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
        clearTimeout(this.#timers.get(command.timerId));
        const delayMs = Math.max(0, command.atMs - this.#deps.clock.now());
        this.#timers.set(
          command.timerId,
          setTimeout(() => {
            this.#timers.delete(command.timerId);
            this.#durable.record({ type: "timer-fired", timerId: command.timerId });
          }, delayMs),
        );
        return;
      }
      case "cancel-timer":
        clearTimeout(this.#timers.get(command.timerId));
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
      gui: isGuiNode(node),
    };
    this.#inFlight.set(taskId, flight);
    if (flight.gui) this.#setGui(deviceId, +1);
    const ended = (ok: boolean, failure?: { code: ErrorCode; message: string; retryable: boolean }) => {
      this.#inFlight.delete(taskId);
      if (flight.gui) this.#setGui(deviceId, -1);
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

  #setGui(deviceId: string, delta: number): void {
    const load = Math.max(0, (this.#guiLoad.get(deviceId) ?? 0) + delta);
    this.#guiLoad.set(deviceId, load);
    this.#deps.gateway.setBusy(deviceId, load > 0);
  }
}
