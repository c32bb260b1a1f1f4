/**
 * The Orion scheduler core: deterministic and free of I/O. Events go in with the time they happened;
 * commands come out for the shell to carry out. The state is plain JSON, so the shell can persist it,
 * and replaying the same events rebuilds the same state.
 */
import { type CandidateDevice, chooseDevice, whyWaiting } from "../../shared/dag/matching.ts";
import { DAG_LIMITS, type DagNode, isGuiNode } from "../../shared/dag/schema.ts";
import {
  type DagState,
  type Failure,
  IllegalTransitionError,
  isFinal,
  NODE_TRANSITIONS,
  type NodeState,
  type NodeStatus,
  type SchedulerCommand,
  type SchedulerEvent,
  type SchedulerState,
  type TransitionRecord,
} from "./types.ts";

/** An empty scheduler state. */
export function emptyState(): SchedulerState {
  return { dags: {}, devices: {}, timers: {}, waiting: [] };
}

/** Drives the state with events; each call returns the commands it produced. */
export class Scheduler {
  #out: SchedulerCommand[] = [];
  #now = 0;

  constructor(readonly state: SchedulerState = emptyState()) {}

  /** Applies one event at `nowMs`. */
  step(event: SchedulerEvent, nowMs: number): SchedulerCommand[] {
    this.#now = nowMs;
    this.#out = [];
    switch (event.type) {
      case "dag-submitted":
        this.#submit(event.dagId, event.name, event.nodes);
        break;
      case "device-ready": {
        const previous = this.state.devices[event.device.id];
        this.state.devices[event.device.id] = {
          ...event.device,
          online: true,
          active: previous?.active ?? 0,
          gui: previous?.gui ?? 0,
        };
        this.#placeWaiting();
        break;
      }
      case "device-offline": {
        const device = this.state.devices[event.deviceId];
        if (device) device.online = false;
        break;
      }
      case "attempt-accepted":
        this.#accepted(event.dagId, event.nodeId, event.attempt);
        break;
      case "attempt-ended":
        this.#ended(event.dagId, event.nodeId, event.attempt, event.ok ? null : event.failure!);
        break;
      case "timer-fired":
        this.#timerFired(event.timerId);
        break;
      case "artifact-stored":
        this.#artifactStored(event.dagId, event.artifact);
        break;
      case "cancel-dag":
        this.#cancel(event.dagId, event.reason);
        break;
      case "edit-dag":
        this.#edit(event.dagId, event.added, event.removed);
        break;
    }
    return this.#out;
  }

  /**
   * After a restart (the state rebuilt from the durable log): devices count as offline until they
   * reconnect, attempts that were in flight end as `server-restart` failures and the retry policy decides,
   * and every pending timer is armed again.
   */
  recover(nowMs: number): SchedulerCommand[] {
    this.#now = nowMs;
    this.#out = [];
    for (const device of Object.values(this.state.devices)) {
      device.online = false;
      device.active = 0;
      device.gui = 0;
    }
    for (const [timerId, timer] of Object.entries(this.state.timers)) {
      this.#out.push({ type: "start-timer", timerId, atMs: timer.atMs });
    }
    for (const dag of Object.values(this.state.dags)) {
      if (dag.status !== "running") continue;
      for (const id of dag.order) {
        const node = dag.nodes[id];
        const attempt = node.attempts.at(-1);
        if (
          (node.status === "assigned" || node.status === "running") && node.spec.kind !== "server" && attempt
        ) {
          node.device = null;
          const failure: Failure = {
            code: "server-restart",
            message: "Stopped: the server restarted while the attempt was in flight",
            retryable: true,
          };
          this.#failAttempt(dag, node, attempt.attempt, failure);
        }
      }
    }
    this.#placeWaiting();
    return this.#out;
  }

  #submit(dagId: string, name: string, specs: DagNode[]): void {
    const dag: DagState = {
      id: dagId,
      name,
      status: "running",
      createdAtMs: this.#now,
      endedAtMs: null,
      nodes: {},
      order: [],
      unfinished: 0,
      storedArtifacts: [],
    };
    this.state.dags[dagId] = dag;
    this.#record({ dagId, kind: "dag", from: null, to: "running" });
    this.#addNodes(dag, specs);
  }

  #addNodes(dag: DagState, specs: DagNode[]): void {
    for (const spec of specs) {
      dag.nodes[spec.id] = {
        id: spec.id,
        spec,
        status: "pending",
        dependents: [],
        remaining: 0,
        attempts: [],
        device: null,
        readyAtMs: null,
        startedAtMs: null,
        endedAtMs: null,
        error: null,
        reason: null,
      };
      dag.order.push(spec.id);
      dag.unfinished++;
    }
    for (const spec of specs) {
      const node = dag.nodes[spec.id];
      for (const dep of spec.after) {
        dag.nodes[dep].dependents.push(spec.id);
        const status = dag.nodes[dep].status;
        if (status !== "succeeded") node.remaining++;
        if (status === "failed" || status === "skipped" || status === "cancelled") {
          node.reason = `dependency ${dep} ${status}`;
        }
      }
    }
    for (const spec of specs) {
      const node = dag.nodes[spec.id];
      if (node.reason !== null && node.status === "pending") this.#skip(dag, node, node.reason);
      else if (node.remaining === 0) this.#makeRunnable(dag, node);
    }
  }

  #makeRunnable(dag: DagState, node: NodeState): void {
    node.readyAtMs ??= this.#now;
    const spec = node.spec;
    if (spec.kind === "server") {
      this.#move(dag, node, "running");
      node.attempts.push(this.#newAttempt(node, null));
      node.attempts.at(-1)!.startedAtMs = this.#now;
      node.startedAtMs ??= this.#now;
      if (spec.timeoutMs !== undefined) {
        this.#timer(`deadline:${dag.id}:${node.id}`, this.#now + spec.timeoutMs, dag, node, "deadline");
      }
      if ("sleepMs" in spec.op) {
        this.#timer(`sleep:${dag.id}:${node.id}`, this.#now + spec.op.sleepMs, dag, node, "sleep");
      } else if (dag.storedArtifacts.includes(spec.op.waitFor)) this.#succeed(dag, node);
      return;
    }
    if (!this.#place(dag, node)) {
      this.#move(dag, node, "waiting", this.#waitReason(node));
      this.state.waiting.push(`${dag.id}/${node.id}`);
    }
  }

  #candidates(): CandidateDevice[] {
    return Object.values(this.state.devices).map((d) => ({
      ...d,
      activeNodes: d.active,
      guiBusy: d.gui > 0,
    }));
  }

  #waitReason(node: NodeState): string {
    const spec = node.spec as Extract<DagNode, { target: unknown }>;
    return whyWaiting(spec.target, isGuiNode(spec), this.#candidates());
  }

  /** Assigns the node to the best device, if any; returns whether it did. */
  #place(dag: DagState, node: NodeState, candidates = this.#candidates()): boolean {
    const spec = node.spec as Extract<DagNode, { target: unknown }>;
    const gui = isGuiNode(spec);
    const device = chooseDevice(spec.target, gui, candidates);
    if (device === null) return false;
    const info = this.state.devices[device.id];
    info.active++;
    if (gui) info.gui++;
    const attempt = this.#newAttempt(node, device.id);
    node.attempts.push(attempt);
    node.device = device.id;
    this.#move(dag, node, "assigned", undefined, { attempt: attempt.attempt, deviceId: device.id });
    const deadlineMs = this.#now + (spec.timeoutMs ?? DAG_LIMITS.defaultTimeoutMs);
    this.#out.push({
      type: "run-attempt",
      dagId: dag.id,
      nodeId: node.id,
      attempt: attempt.attempt,
      deviceId: device.id,
      deadlineMs,
    });
    return true;
  }

  #placeWaiting(): void {
    if (this.state.waiting.length === 0) return;
    const stillWaiting: string[] = [];
    const failedTargets = new Set<string>();
    for (const key of this.state.waiting) {
      const slash = key.indexOf("/");
      const dag = this.state.dags[key.slice(0, slash)];
      const node = dag?.nodes[key.slice(slash + 1)];
      if (node === undefined || node.status !== "waiting") continue;
      const spec = node.spec as Extract<DagNode, { target: unknown }>;
      const targetKey = JSON.stringify(spec.target) + isGuiNode(spec);
      if (failedTargets.has(targetKey) || !this.#place(dag, node)) {
        failedTargets.add(targetKey);
        stillWaiting.push(key);
        const reason = this.#waitReason(node);
        if (reason !== node.reason) node.reason = reason;
      }
    }
    this.state.waiting = stillWaiting;
  }

  #accepted(dagId: string, nodeId: string, attemptNumber: number): void {
    const dag = this.state.dags[dagId];
    const node = dag?.nodes[nodeId];
    const attempt = node?.attempts.at(-1);
    if (!node || !attempt || attempt.attempt !== attemptNumber || node.status !== "assigned") return;
    attempt.startedAtMs = this.#now;
    node.startedAtMs ??= this.#now;
    this.#move(dag, node, "running", undefined, {
      attempt: attemptNumber,
      deviceId: attempt.deviceId ?? undefined,
    });
  }

  #ended(dagId: string, nodeId: string, attemptNumber: number, failure: Failure | null): void {
    const dag = this.state.dags[dagId];
    const node = dag?.nodes[nodeId];
    const attempt = node?.attempts.at(-1);
    // Answers for attempts that are no longer current (late, duplicate) change nothing.
    if (!node || !attempt || attempt.attempt !== attemptNumber || attempt.outcome !== "in-flight") return;
    if (node.status !== "assigned" && node.status !== "running") return;
    this.#release(node);
    if (failure === null) this.#succeed(dag, node);
    else this.#failAttempt(dag, node, attemptNumber, failure);
    this.#placeWaiting();
  }

  #release(node: NodeState): void {
    const device = node.device === null ? undefined : this.state.devices[node.device];
    if (device) {
      device.active = Math.max(0, device.active - 1);
      if (isGuiNode(node.spec)) device.gui = Math.max(0, device.gui - 1);
    }
  }

  #failAttempt(
    dag: DagState,
    node: NodeState,
    attemptNumber: number,
    failure: Failure,
  ): void {
    const attempt = node.attempts.find((a) => a.attempt === attemptNumber)!;
    attempt.endedAtMs = this.#now;
    attempt.outcome = "failed";
    attempt.code = failure.code;
    attempt.reason = failure.message;
    node.error = { code: failure.code, message: failure.message };
    const allowed = node.spec.retry?.attempts ?? 1;
    if (failure.retryable && node.attempts.length < allowed && dag.status === "running") {
      const backoffMs = (node.spec.retry?.backoffMs ?? 0) * 2 ** (node.attempts.length - 1);
      node.device = null;
      this.#move(
        dag,
        node,
        "pending",
        `attempt ${attemptNumber} failed (${failure.code}); retry in ${backoffMs} ms`,
        { attempt: attemptNumber },
      );
      this.#timer(`retry:${dag.id}:${node.id}:${attemptNumber}`, this.#now + backoffMs, dag, node, "retry");
      return;
    }
    this.#finish(dag, node, "failed", `${failure.code}: ${failure.message}`);
    this.#skipDependents(dag, node);
  }

  #succeed(dag: DagState, node: NodeState): void {
    const attempt = node.attempts.at(-1);
    if (attempt) {
      attempt.startedAtMs ??= this.#now;
      attempt.endedAtMs = this.#now;
      attempt.outcome = "succeeded";
    }
    node.startedAtMs ??= this.#now;
    node.error = null;
    this.#finish(dag, node, "succeeded");
    for (const id of node.dependents) {
      const dependent = dag.nodes[id];
      dependent.remaining--;
      if (dependent.remaining === 0 && dependent.status === "pending") this.#makeRunnable(dag, dependent);
    }
  }

  #skipDependents(dag: DagState, failed: NodeState): void {
    const stack = [...failed.dependents];
    while (stack.length > 0) {
      const node = dag.nodes[stack.pop()!];
      if (node.status !== "pending" && node.status !== "waiting") continue;
      this.#skip(dag, node, `dependency ${failed.id} ${failed.status}`);
      stack.push(...node.dependents);
    }
  }

  #skip(dag: DagState, node: NodeState, reason: string): void {
    this.#finish(dag, node, "skipped", reason);
  }

  #finish(dag: DagState, node: NodeState, status: NodeStatus, reason?: string): void {
    node.endedAtMs = this.#now;
    this.#clearTimers(dag.id, node.id);
    const attempt = node.attempts.at(-1);
    this.#move(
      dag,
      node,
      status,
      reason,
      attempt ? { attempt: attempt.attempt, deviceId: attempt.deviceId ?? undefined } : {},
    );
    dag.unfinished--;
    if (dag.unfinished === 0 && dag.status === "running") {
      const failed = dag.order.some((id) =>
        dag.nodes[id].status === "failed" || dag.nodes[id].status === "skipped"
      );
      this.#endDag(dag, failed ? "failed" : "succeeded");
    }
  }

  #endDag(dag: DagState, status: DagState["status"], reason?: string): void {
    const from = dag.status;
    dag.status = status;
    dag.endedAtMs = this.#now;
    this.#record({ dagId: dag.id, kind: "dag", from, to: status, reason });
  }

  #timerFired(timerId: string): void {
    const timer = this.state.timers[timerId];
    if (timer === undefined) return;
    delete this.state.timers[timerId];
    const dag = this.state.dags[timer.dagId];
    const node = dag?.nodes[timer.nodeId];
    if (!node || isFinal(node.status) || dag.status !== "running") return;
    if (timer.kind === "retry" && node.status === "pending") this.#makeRunnable(dag, node);
    else if (timer.kind === "sleep" && node.status === "running") this.#succeed(dag, node);
    else if (timer.kind === "deadline" && node.status === "running") {
      this.#failAttempt(dag, node, node.attempts.at(-1)!.attempt, {
        code: "timeout",
        message: `Stopped: node ${node.id} passed its ${node.spec.timeoutMs} ms timeout`,
        retryable: true,
      });
    }
  }

  #artifactStored(dagId: string, artifact: string): void {
    const dag = this.state.dags[dagId];
    if (dag === undefined || dag.storedArtifacts.includes(artifact)) return;
    dag.storedArtifacts.push(artifact);
    for (const id of dag.order) {
      const node = dag.nodes[id];
      if (
        node.status === "running" && node.spec.kind === "server" && "waitFor" in node.spec.op &&
        node.spec.op.waitFor === artifact
      ) {
        this.#succeed(dag, node);
      }
    }
  }

  #cancel(dagId: string, reason: string): void {
    const dag = this.state.dags[dagId];
    if (dag === undefined || dag.status !== "running") return;
    this.#endDag(dag, "cancelled", reason);
    for (const id of dag.order) {
      const node = dag.nodes[id];
      if (isFinal(node.status)) continue;
      const attempt = node.attempts.at(-1);
      if (
        (node.status === "assigned" || node.status === "running") && attempt && node.spec.kind !== "server"
      ) {
        this.#out.push({ type: "cancel-attempt", dagId, nodeId: id, attempt: attempt.attempt, reason });
        attempt.outcome = "cancelled";
        attempt.endedAtMs = this.#now;
        this.#release(node);
      }
      node.reason = reason;
      node.endedAtMs = this.#now;
      this.#clearTimers(dagId, id);
      this.#move(dag, node, "cancelled", reason);
      dag.unfinished--;
    }
    this.#placeWaiting();
  }

  #edit(dagId: string, added: DagNode[], removed: string[]): void {
    const dag = this.state.dags[dagId];
    if (dag === undefined || dag.status !== "running") return;
    for (const id of removed) {
      const node = dag.nodes[id];
      if (!node || (node.status !== "pending" && node.status !== "waiting")) continue;
      for (const dep of node.spec.after) {
        const parent = dag.nodes[dep];
        if (parent) parent.dependents = parent.dependents.filter((d) => d !== id);
      }
      this.#clearTimers(dagId, id);
      delete dag.nodes[id];
      dag.order = dag.order.filter((n) => n !== id);
      dag.unfinished--;
      this.#record({ dagId, nodeId: id, kind: "node", from: node.status, to: "removed" });
    }
    this.#addNodes(dag, added);
    if (dag.unfinished === 0) {
      const failed = dag.order.some((id) =>
        dag.nodes[id].status === "failed" || dag.nodes[id].status === "skipped"
      );
      this.#endDag(dag, failed ? "failed" : "succeeded");
    }
  }

  #newAttempt(node: NodeState, deviceId: string | null) {
    return {
      attempt: node.attempts.length + 1,
      deviceId,
      assignedAtMs: this.#now,
      startedAtMs: null,
      endedAtMs: null,
      outcome: "in-flight" as const,
    };
  }

  #timer(
    timerId: string,
    atMs: number,
    dag: DagState,
    node: NodeState,
    kind: "retry" | "sleep" | "deadline",
  ): void {
    this.state.timers[timerId] = { atMs, dagId: dag.id, nodeId: node.id, kind };
    this.#out.push({ type: "start-timer", timerId, atMs });
  }

  #clearTimers(dagId: string, nodeId: string): void {
    for (const [timerId, timer] of Object.entries(this.state.timers)) {
      if (timer.dagId === dagId && timer.nodeId === nodeId) {
        delete this.state.timers[timerId];
        this.#out.push({ type: "cancel-timer", timerId });
      }
    }
  }

  #move(
    dag: DagState,
    node: NodeState,
    to: NodeStatus,
    reason?: string,
    extra: Partial<TransitionRecord> = {},
  ): void {
    const from = node.status;
    if (!NODE_TRANSITIONS[from].includes(to)) throw new IllegalTransitionError(node.id, from, to);
    node.status = to;
    if (reason !== undefined) node.reason = reason;
    else if (to !== "waiting") node.reason = null;
    this.#record({ dagId: dag.id, nodeId: node.id, kind: "node", from, to, reason, ...extra });
  }

  #record(record: Omit<TransitionRecord, "atMs">): void {
    const full: TransitionRecord = { ...record, atMs: this.#now };
    for (const key of Object.keys(full) as Array<keyof TransitionRecord>) {
      if (full[key] === undefined) delete full[key];
    }
    this.#out.push({ type: "record", record: full });
  }
}

/** Checks a transition against the table, throwing IllegalTransitionError when it is not legal. */
export function assertTransition(nodeId: string, from: NodeStatus, to: NodeStatus): void {
  if (!NODE_TRANSITIONS[from].includes(to)) throw new IllegalTransitionError(nodeId, from, to);
}
