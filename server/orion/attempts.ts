/**
 * The attempts in flight: each `run-attempt` the scheduler commands is carried out here (inputs looked up,
 * the node runner driving the device, outputs checked) and its outcome recorded as `attempt-ended`;
 * `cancel-attempt` aborts one. While an attempt runs, its device may move exactly the artifacts its node
 * declares (`authorize`), nothing else.
 */
import type { DagNode } from "../../shared/dag/schema.ts";
import { type ErrorCode, type Failure, failure } from "../../shared/protocol/mod.ts";
import type { ArtifactAuthorizer } from "../artifacts/transfer.ts";
import type { ArtifactStore } from "../artifacts/store.ts";
import type { Logger } from "../log.ts";
import type { SchedulerCommand, SchedulerEvent } from "../scheduler/types.ts";
import type { Timers } from "../../shared/clock.ts";
import { type AgentDeps, AgentSource } from "../brain/agent.ts";
import type { ChatModel } from "../brain/llm.ts";
import type { OcrEngine } from "../brain/types.ts";
import type { DeviceView } from "../gateway/types.ts";
import { type NodeRunner, scriptSteps, type StepSource } from "./node_runner.ts";

interface InFlight {
  dagId: string;
  nodeId: string;
  attempt: number;
  deviceId: string;
  controller: AbortController;
}

/** What an agent node needs: the model, how to look, and the budgets a node does not set itself. */
export interface AgentSetup {
  model: ChatModel;
  capture: AgentDeps["capture"];
  ocr: OcrEngine | null;
  clock: Timers;
  maxSteps: number;
  maxTokens: number;
}

/** What the attempts need. */
export interface AttemptDeps {
  runner: NodeRunner;
  /** Null when no model is configured: agent nodes then fail with `no-llm-configured`. */
  agent: AgentSetup | null;
  /** The device an attempt runs on, for the agent's description of it. */
  device(deviceId: string): DeviceView | undefined;
  store: ArtifactStore;
  logger: Logger;
  /** A live node's spec. */
  spec(dagId: string, nodeId: string): DagNode | undefined;
  /** Records what the server observed (accepted, ended). */
  record(event: SchedulerEvent): void;
  /** True once the server is stopping: outcomes are then left for the next start to resolve. */
  stopping(): boolean;
}

/** Runs and cancels attempts on devices. */
export class Attempts {
  readonly #deps: AttemptDeps;
  readonly #inFlight = new Map<string, InFlight>();

  constructor(deps: AttemptDeps) {
    this.#deps = deps;
  }

  /** DAGs with an attempt still winding down. */
  dagIds(): Set<string> {
    return new Set([...this.#inFlight.values()].map((flight) => flight.dagId));
  }

  /** Aborts the attempt a `cancel-attempt` names, with the failure's code as the reason. */
  cancel(command: Extract<SchedulerCommand, { type: "cancel-attempt" }>): void {
    for (const flight of this.#inFlight.values()) {
      if (
        flight.dagId === command.dagId && flight.nodeId === command.nodeId &&
        flight.attempt === command.attempt
      ) {
        flight.controller.abort(command.reason);
      }
    }
  }

  /** Aborts every attempt (a recovery retries them from the state, or the server stops). */
  abortAll(reason: string): void {
    for (const flight of this.#inFlight.values()) flight.controller.abort(reason);
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

  /** Carries out a `run-attempt`; the outcome is recorded, never thrown. */
  async run(command: Extract<SchedulerCommand, { type: "run-attempt" }>): Promise<void> {
    const { dagId, nodeId, attempt, deviceId, deadlineMs } = command;
    const node = this.#deps.spec(dagId, nodeId)!;
    const taskId = `${dagId}.${nodeId}.${attempt}`;
    const flight: InFlight = { dagId, nodeId, attempt, deviceId, controller: new AbortController() };
    this.#inFlight.set(taskId, flight);
    const ended = (outcome: Failure | null) => {
      this.#inFlight.delete(taskId);
      this.#deps.record({
        type: "attempt-ended",
        dagId,
        nodeId,
        attempt,
        ok: outcome === null,
        ...(outcome === null ? {} : { failure: outcome }),
      });
    };
    try {
      const inputs = [];
      for (const input of node.inputs) {
        const meta = await this.#deps.store.describe(dagId, input.artifact);
        if (meta === null) return ended(failure("internal", `artifact ${input.artifact} is missing`, false));
        inputs.push({ ...input, size: meta.size, sha256: meta.sha256 });
      }
      const source = this.#source(node, deviceId, taskId, flight.controller.signal);
      if (!("next" in source)) return ended(source);
      const outcome = await this.#deps.runner.run({
        deviceId,
        source,
        approval: node.kind === "server" ? undefined : node.approval,
        onAccepted: () => this.#deps.record({ type: "attempt-accepted", dagId, nodeId, attempt }),
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
      if (this.#deps.stopping()) return;
      if (!outcome.ok) return ended(outcome.failure);
      for (const output of node.outputs) {
        if (!(await this.#deps.store.has(dagId, output.artifact))) {
          const message = `Cannot finish: output ${output.artifact} (${output.file}) was not uploaded`;
          return ended({ code: "action-failed", message, retryable: true });
        }
      }
      ended(null);
    } catch (error) {
      this.#deps.logger.error("attempt failed unexpectedly", { taskId, error: String(error) });
      ended(failure("internal", String(error), true));
    }
  }

  /** Where the node's steps come from: its script, or the agent loop (a failure when there is no model). */
  #source(node: DagNode, deviceId: string, taskId: string, signal: AbortSignal): StepSource | Failure {
    if (node.kind !== "agent") return scriptSteps(node.kind === "script" ? node.steps : []);
    const agent = this.#deps.agent;
    if (agent === null) return failure("no-llm-configured", undefined, false);
    const caps = this.#deps.device(deviceId)?.capabilities;
    return new AgentSource(agent, {
      goal: node.goal,
      maxSteps: node.maxSteps ?? agent.maxSteps,
      maxTokens: node.maxTokens ?? agent.maxTokens,
      device: { name: caps?.name ?? deviceId, os: caps?.os.platform ?? "unknown", apps: caps?.apps ?? [] },
      run: { deviceId, taskId, signal },
    });
  }

  #taskFor(deviceId: string, taskId: string): { flight: InFlight; node: DagNode } | ErrorCode {
    const flight = this.#inFlight.get(taskId);
    if (flight === undefined) return "unknown-task";
    if (flight.deviceId !== deviceId) return "not-your-work";
    const node = this.#deps.spec(flight.dagId, flight.nodeId);
    return node === undefined ? "unknown-task" : { flight, node };
  }
}
