/** Operator requests on a running DAG: cancel it, or edit it (add nodes, remove unstarted ones). */
import type { DagNode } from "../../shared/dag/schema.ts";
import { clearTimers, endDag, moveNode, record, type StepContext } from "./context.ts";
import { addNodes, endIfDone } from "./lifecycle.ts";
import { release } from "./placement.ts";
import { isFinal } from "./transitions.ts";

/**
 * Cancels a running DAG: each in-flight device attempt gets `cancel-attempt` (its device is freed),
 * every unfinished node ends `cancelled` with the reason, then the DAG. Returns whether anything changed.
 */
export function cancelDag(ctx: StepContext, dagId: string, reason: string): boolean {
  const dag = ctx.state.dags[dagId];
  if (dag === undefined || dag.status !== "running") return false;
  for (const id of dag.order) {
    const node = dag.nodes[id];
    if (isFinal(node.status)) continue;
    const attempt = node.attempts.at(-1);
    if (attempt?.outcome === "in-flight") {
      if (attempt.deviceId !== null) {
        ctx.out.push({ type: "cancel-attempt", dagId, nodeId: id, attempt: attempt.attempt, reason });
        release(ctx.state, dagId, node);
      }
      attempt.outcome = "cancelled";
      attempt.endedAtMs = ctx.nowMs;
      attempt.reason = reason;
    }
    node.endedAtMs = ctx.nowMs;
    clearTimers(ctx, node);
    moveNode(ctx, dag, node, "cancelled", reason);
    dag.unfinished--;
  }
  endDag(ctx, dag, "cancelled", reason);
  return true;
}

/**
 * Applies an edit already checked by `validateEdit`: removes pending or waiting nodes (recorded as
 * `removed`; ids in any other state are ignored, as the state may have moved on), then adds nodes.
 */
export function editDag(
  ctx: StepContext,
  dagId: string,
  added: readonly DagNode[],
  removed: readonly string[],
): void {
  const wanted = new Set(removed);
  const dag = ctx.state.dags[dagId];
  if (dag === undefined || dag.status !== "running") return;
  const gone = new Set<string>();
  for (const id of removed) {
    const node = dag.nodes[id];
    if (node === undefined || (node.status !== "pending" && node.status !== "waiting")) continue;
    if (node.dependents.some((d) => !wanted.has(d))) continue;
    for (const dep of node.spec.after) {
      const parent = dag.nodes[dep];
      if (parent) parent.dependents = parent.dependents.filter((d) => d !== id);
    }
    clearTimers(ctx, node);
    delete dag.nodes[id];
    gone.add(id);
    dag.unfinished--;
    record(ctx, { dagId, nodeId: id, kind: "node", from: node.status, to: "removed" });
  }
  if (gone.size > 0) dag.order = dag.order.filter((id) => !gone.has(id));
  const fresh = added.filter((spec) => dag.nodes[spec.id] === undefined);
  addNodes(ctx, dag, fresh);
  endIfDone(ctx, dag);
}
