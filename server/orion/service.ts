/**
 * The Orion shell: feeds the scheduler core with events (device arrivals and losses, runner outcomes,
 * timers, stored artifacts, operator requests), writes every event and the transitions it caused to the
 * store in one transaction before acting on them, then carries out the commands: runs attempts on
 * devices, cancels them, arms timers. After a restart it replays the stored events to rebuild the state
 * and lets the core resolve what was in flight.
 */
import type { Clock } from "../../shared/clock.ts";
import { isGuiNode } from "../../shared/dag/schema.ts";
import type { DagNode } from "../../shared/dag/schema.ts";
import type { ErrorCode } from "../../shared/protocol/mod.ts";
import type { ArtifactAuthorizer } from "../artifacts/transfer.ts";
import type { ArtifactStore } from "../artifacts/store.ts";
import type { DeviceView, Gateway } from "../gateway/types.ts";
import type { Logger } from "../log.ts";
import { Scheduler } from "../scheduler/scheduler.ts";
import type { SchedulerCommand, SchedulerEvent } from "../scheduler/types.ts";
import { type Database, type Migration, transaction } from "../store/db.ts";
import type { EventLog, LoggedEvent } from "./event_log.ts";
import { type NodeRunner, scriptSteps } from "./node_runner.ts";

/** The durable input log. */
export const ORION_MIGRATIONS: readonly Migration[] = [{
  id: 21,
  name: "orion inputs",
  sql:
    "CREATE TABLE orion_inputs (seq INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL, event TEXT NOT NULL)",
}];

/** An input: a scheduler event, or the marker of a server restart. */
type Input = SchedulerEvent | { type: "server-restarted" };

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
}

/** Runs DAGs. */
export class OrionService {
  readonly #deps: OrionDeps;
  readonly #scheduler = new Scheduler();
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>();
  readonly #inFlight = new Map<string, InFlight>();
  readonly #guiLoad = new Map<string, number>();
  #unsubscribe: () => void = () => {};
  #closed = false;

  constructor(deps: OrionDeps) {
    this.#deps = deps;
  }

  /** Rebuilds the state from the store, resolves what was in flight, and starts listening to devices. */
  start(): void {
    const rows = this.#deps.db.prepare("SELECT at_ms, event FROM orion_inputs ORDER BY seq").all() as Array<
      { at_ms: number; event: string }
    >;
    for (const row of rows) this.#apply(JSON.parse(row.event) as Input, row.at_ms);
    if (rows.length > 0) this.#submit({ type: "server-restarted" });
    const ready = (device: DeviceView) =>
      this.#submit({
        type: "device-ready",
        device: { id: device.id, name: device.name, capabilities: device.capabilities, rttMs: device.rttMs },
      });
    this.#unsubscribe = this.#deps.gateway.subscribe({
      deviceReady: ready,
      deviceOffline: (device) => this.#submit({ type: "device-offline", deviceId: device.id }),
    });
    for (const device of this.#deps.gateway.devices()) {
      if (device.state === "ready" || device.state === "busy") ready(device);
    }
  }

  /** The scheduler's state (read-only use). */
  get state() {
    return this.#scheduler.state;
  }

  /** Records an event durably, then acts on the commands it produced. */
  submit(event: SchedulerEvent): void {
    this.#submit(event);
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

  /** Stops timers and in-flight attempts without recording anything (the next start resolves them). */
  close(): void {
    this.#closed = true;
    this.#unsubscribe();
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    for (const flight of this.#inFlight.values()) flight.controller.abort("server shutting down");
  }

  #taskFor(deviceId: string, taskId: string): { flight: InFlight; node: DagNode } | ErrorCode {
    const flight = this.#inFlight.get(taskId);
    if (flight === undefined) return "unknown-task";
    if (flight.deviceId !== deviceId) return "not-your-work";
    return { flight, node: this.#scheduler.state.dags[flight.dagId].nodes[flight.nodeId].spec };
  }

  #apply(input: Input, atMs: number): SchedulerCommand[] {
    return input.type === "server-restarted"
      ? this.#scheduler.recover(atMs)
      : this.#scheduler.step(input, atMs);
  }

  #submit(input: Input): void {
    if (this.#closed) return;
    const atMs = this.#deps.clock.now();
    const logged: LoggedEvent[] = [];
    let commands: SchedulerCommand[] = [];
    const db = this.#deps.db;
    transaction(db, () => {
      db.prepare("INSERT INTO orion_inputs (at_ms, event) VALUES (?, ?)").run(atMs, JSON.stringify(input));
      commands = this.#apply(input, atMs);
      for (const command of commands) {
        if (command.type === "record") {
          const { dagId, ...data } = command.record;
          logged.push(this.#deps.log.append(dagId, command.record.atMs, data));
        }
      }
    });
    this.#deps.log.publish(logged);
    for (const command of commands) this.#execute(command);
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
            this.#submit({ type: "timer-fired", timerId: command.timerId });
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
    const dag = this.#scheduler.state.dags[dagId];
    const node = dag.nodes[nodeId].spec;
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
      this.#submit({ type: "attempt-ended", dagId, nodeId, attempt, ok, failure });
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
        onAccepted: () => this.#submit({ type: "attempt-accepted", dagId, nodeId, attempt }),
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
