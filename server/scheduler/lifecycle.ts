/**
 * A node's life: added, runnable once every dependency succeeded, placed or started on the server,
 * then succeeded, retried after a backoff, failed (its dependents skipped), or skipped.
 */
import { DAG_LIMITS, type DagNode } from "../../shared/dag/schema.ts";
import { armTimer, clearTimers, endDag, moveNode, type StepContext } from "./context.ts";
import { placeOrWait } from "./placement.ts";
import { isFinal, type NodeStatus } from "./transitions.ts";
import type { DagState, Failure, NodeState } from "./types.ts";

/** The backoff before the retry that follows `failedAttempts` failures: `backoffMs * 2^(n-1)`, capped. */
export function backoffMs(spec: DagNode, failedAttempts: number): number {
  const base = spec.retry?.backoffMs ?? 0;
  return Math.min(DAG_LIMITS.maxBackoffMs, base * 2 ** Math.max(0, failedAttempts - 1));
}

/**
 * Adds nodes to a DAG (at submission or by an edit): links them to their dependencies, skips those
 * with a failed dependency, and starts those whose dependencies all succeeded.
 */
export function addNodes(ctx: StepContext, dag: DagState, specs: readonly DagNode[]): void {
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
      timers: [],
    };
    dag.order.push(spec.id);
    dag.unfinished++;
  }
  const doomed: Array<[NodeState, string]> = [];
  for (const spec of specs) {
    const node = dag.nodes[spec.id];
    for (const dep of spec.after) {
      const parent = dag.nodes[dep];
      parent.dependents.push(spec.id);
      if (parent.status !== "succeeded") node.remaining++;
      if (parent.status === "skipped") doomed.push([node, parent.reason ?? `dependency ${dep} skipped`]);
      if (parent.status === "failed" || parent.status === "cancelled") {
        doomed.push([node, `dependency ${dep} ${parent.status}`]);
      }
    }
  }
  for (const [node, reason] of doomed) {
    if (node.status === "pending") skipWithDependents(ctx, dag, node, reason);
  }
  for (const spec of specs) {
    const node = dag.nodes[spec.id];
    if (node.status === "pending" && node.remaining === 0) makeRunnable(ctx, dag, node);
  }
}

/** Starts a node whose dependencies all succeeded: a server op begins, a device node is placed or waits. */
export function makeRunnable(ctx: StepContext, dag: DagState, node: NodeState): void {
  node.readyAtMs ??= ctx.nowMs;
  const spec = node.spec;
  if (spec.kind !== "server") return placeOrWait(ctx, dag, node);
  node.attempts.push({
    attempt: node.attempts.length + 1,
    deviceId: null,
    assignedAtMs: ctx.nowMs,
    startedAtMs: ctx.nowMs,
    endedAtMs: null,
    outcome: "in-flight",
  });
  node.startedAtMs ??= ctx.nowMs;
  moveNode(ctx, dag, node, "running");
  const timer = { dagId: dag.id, nodeId: node.id };
  if (spec.timeoutMs !== undefined) {
    armTimer(ctx, `deadline:${dag.id}:${node.id}`, {
      ...timer,
      atMs: ctx.nowMs + spec.timeoutMs,
      kind: "deadline",
    });
  }
  if ("sleepMs" in spec.op) {
    armTimer(ctx, `sleep:${dag.id}:${node.id}`, {
      ...timer,
      atMs: ctx.nowMs + spec.op.sleepMs,
      kind: "sleep",
    });
  } else if (dag.artifacts[spec.op.waitFor] !== undefined) {
    succeed(ctx, dag, node);
  } else {
    (dag.waiters[spec.op.waitFor] ??= []).push(node.id);
  }
}

/** Ends the current attempt and the node as succeeded, and starts each dependent now fully satisfied. */
export function succeed(ctx: StepContext, dag: DagState, node: NodeState): void {
  const attempt = node.attempts.at(-1);
  if (attempt) {
    attempt.startedAtMs ??= ctx.nowMs;
    attempt.endedAtMs = ctx.nowMs;
    attempt.outcome = "succeeded";
  }
  node.startedAtMs ??= ctx.nowMs;
  node.error = null;
  finish(ctx, dag, node, "succeeded");
  for (const id of node.dependents) {
    const dependent = dag.nodes[id];
    dependent.remaining--;
    if (dependent.remaining === 0 && dependent.status === "pending") makeRunnable(ctx, dag, dependent);
  }
}

/**
 * Ends attempt `attemptNumber` as failed (the device, if any, already released). A retryable failure with
 * attempts left sends the node back to `pending` with a retry timer after its backoff; otherwise the
 * node fails and its dependents are skipped.
 */
export function failAttempt(
  ctx: StepContext,
  dag: DagState,
  node: NodeState,
  attemptNumber: number,
  failure: Failure,
): void {
  const attempt = node.attempts.find((a) => a.attempt === attemptNumber)!;
  attempt.endedAtMs = ctx.nowMs;
  attempt.outcome = "failed";
  attempt.code = failure.code;
  attempt.reason = failure.message;
  node.error = { code: failure.code, message: failure.message };
  node.device = null;
  clearTimers(ctx, node);
  const allowed = node.spec.retry?.attempts ?? 1;
  if (failure.retryable && node.attempts.length < allowed && dag.status === "running") {
    const waitMs = backoffMs(node.spec, node.attempts.length);
    const reason = `attempt ${attemptNumber} failed (${failure.code}); retry in ${waitMs} ms`;
    moveNode(ctx, dag, node, "pending", reason);
    armTimer(ctx, `retry:${dag.id}:${node.id}:${attemptNumber}`, {
      atMs: ctx.nowMs + waitMs,
      dagId: dag.id,
      nodeId: node.id,
      kind: "retry",
    });
    return;
  }
  finish(ctx, dag, node, "failed", `${failure.code}: ${failure.message}`);
  skipDependents(ctx, dag, node, `dependency ${node.id} failed`);
}

/** Skips a node and, transitively, its not-yet-started dependents, all with the same reason. */
export function skipWithDependents(ctx: StepContext, dag: DagState, node: NodeState, reason: string): void {
  finish(ctx, dag, node, "skipped", reason);
  skipDependents(ctx, dag, node, reason);
}

function skipDependents(ctx: StepContext, dag: DagState, from: NodeState, reason: string): void {
  const stack = [...from.dependents];
  while (stack.length > 0) {
    const node = dag.nodes[stack.pop()!];
    if (node.status !== "pending") continue;
    finish(ctx, dag, node, "skipped", reason);
    stack.push(...node.dependents);
  }
}

/** Moves a node to a final state, disarms its timers, and ends the DAG when it was the last one. */
export function finish(
  ctx: StepContext,
  dag: DagState,
  node: NodeState,
  to: NodeStatus,
  reason?: string,
): void {
  node.endedAtMs = ctx.nowMs;
  clearTimers(ctx, node);
  moveNode(ctx, dag, node, to, reason);
  dag.unfinished--;
  endIfDone(ctx, dag);
}

/** Ends a running DAG with no unfinished node: `succeeded` if every node did, else `failed`. */
export function endIfDone(ctx: StepContext, dag: DagState): void {
  if (dag.unfinished > 0 || dag.status !== "running") return;
  const allSucceeded = dag.order.every((id) => dag.nodes[id].status === "succeeded");
  endDag(ctx, dag, allSucceeded ? "succeeded" : "failed");
}

/** Whether the node's attempt `attemptNumber` is the current one and still in flight. */
export function isCurrentAttempt(node: NodeState, attemptNumber: number): boolean {
  const attempt = node.attempts.at(-1);
  return !isFinal(node.status) && attempt !== undefined && attempt.attempt === attemptNumber &&
    attempt.outcome === "in-flight";
}
