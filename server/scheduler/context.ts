/**
 * One step's working context: the state being updated, the time, and the commands produced so far;
 * plus the primitives every part of the core uses: checked moves (each recorded), timers, node keys.
 */
import { assertDagTransition, assertTransition, type DagStatus, type NodeStatus } from "./transitions.ts";
import type {
  DagState,
  NodeState,
  SchedulerCommand,
  SchedulerState,
  TimerInfo,
  TransitionRecord,
} from "./types.ts";

/** The state, the time and the output of the step in progress. */
export interface StepContext {
  readonly state: SchedulerState;
  readonly nowMs: number;
  readonly out: SchedulerCommand[];
}

/** A node's key across DAGs: `dagId/nodeId` (node ids hold no `/`). */
export function nodeKey(dagId: string, nodeId: string): string {
  return `${dagId}/${nodeId}`;
}

/** The DAG and node a key names, if both still exist. */
export function lookup(state: SchedulerState, key: string): { dag: DagState; node: NodeState } | null {
  const slash = key.lastIndexOf("/");
  const dag = state.dags[key.slice(0, slash)];
  const node = dag?.nodes[key.slice(slash + 1)];
  return node === undefined ? null : { dag, node };
}

/** Appends a transition record, dropping absent fields so records stay compact. */
export function record(ctx: StepContext, record: Omit<TransitionRecord, "atMs">): void {
  // Copied field by field rather than spread then deleted: deleting turns an object slow to read and write.
  const full: Record<string, unknown> = {};
  for (const key in record) {
    const value = record[key as keyof typeof record];
    if (value !== undefined) full[key] = value;
  }
  full.atMs = ctx.nowMs;
  ctx.out.push({ type: "record", record: full as unknown as TransitionRecord });
}

/** Moves a node, refusing an illegal transition; sets or clears the reason and records the move. */
export function moveNode(
  ctx: StepContext,
  dag: DagState,
  node: NodeState,
  to: NodeStatus,
  reason?: string,
): void {
  const from = node.status;
  assertTransition(node.id, from, to);
  node.status = to;
  node.reason = reason ?? null;
  const attempt = node.attempts.at(-1);
  record(ctx, {
    dagId: dag.id,
    nodeId: node.id,
    kind: "node",
    from,
    to,
    attempt: attempt?.attempt,
    deviceId: attempt?.deviceId ?? undefined,
    reason,
  });
}

/** Ends a running DAG, refusing an illegal transition, and records it. */
export function endDag(ctx: StepContext, dag: DagState, to: DagStatus, reason?: string): void {
  assertDagTransition(dag.id, dag.status, to);
  const from = dag.status;
  dag.status = to;
  dag.endedAtMs = ctx.nowMs;
  record(ctx, { dagId: dag.id, kind: "dag", from, to, reason });
}

/** Arms a timer for a node (`start-timer` out); the id is deterministic so replays match. */
export function armTimer(ctx: StepContext, timerId: string, timer: TimerInfo): void {
  ctx.state.timers[timerId] = timer;
  const node = ctx.state.dags[timer.dagId].nodes[timer.nodeId];
  if (!node.timers.includes(timerId)) node.timers.push(timerId);
  ctx.out.push({ type: "start-timer", timerId, atMs: timer.atMs });
}

/** Disarms every timer of a node (`cancel-timer` out for each). */
export function clearTimers(ctx: StepContext, node: NodeState): void {
  for (const timerId of node.timers) {
    if (ctx.state.timers[timerId] === undefined) continue;
    delete ctx.state.timers[timerId];
    ctx.out.push({ type: "cancel-timer", timerId });
  }
  node.timers = [];
}
