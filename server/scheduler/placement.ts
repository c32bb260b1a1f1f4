/**
 * Placement: assigning device nodes to devices, and the queues of nodes waiting for one. Waiting nodes
 * are grouped by (target, GUI) so a pass costs one placement try per distinct target, not per node:
 * when the oldest node of a queue cannot be placed, neither can the rest.
 */
import { type CandidateDevice, chooseDevice, whyWaiting } from "../../shared/dag/matching.ts";
import { DAG_LIMITS, type DeviceNode, effectiveTarget, isGuiNode } from "../../shared/dag/schema.ts";
import { armTimer, lookup, moveNode, nodeKey, type StepContext } from "./context.ts";
import type { DagState, DeviceInfo, NodeState, SchedulerState, WaitQueue } from "./types.ts";

/** How the scheduler's view of a device looks to the matcher. */
export function candidate(device: DeviceInfo): CandidateDevice {
  const state = !device.online ? "offline" : device.gui > 0 || device.busy ? "busy" : "ready";
  return {
    ...device,
    state,
    busyCount: device.nodes.length + (device.busy ? 1 : 0),
    freeSlots: maxTasksOf(device) - device.nodes.length,
  };
}

/** The tasks a device runs at once: what it announced, 1 when it announced nothing (older clients, old logs). */
export function maxTasksOf(device: DeviceInfo): number {
  return (device.capabilities as { maxTasks?: number }).maxTasks ?? 1;
}

function candidates(state: SchedulerState): CandidateDevice[] {
  return Object.values(state.devices).map(candidate);
}

/**
 * Assigns a pending or waiting device node to the best device (a new attempt, `run-attempt` out, and a
 * deadline timer at `timeoutMs`, by default `DAG_LIMITS.defaultTimeoutMs`); returns whether it did.
 */
export function place(ctx: StepContext, dag: DagState, node: NodeState): boolean {
  const spec = node.spec as DeviceNode;
  const gui = isGuiNode(spec);
  const chosen = chooseDevice(effectiveTarget(spec), gui, candidates(ctx.state));
  if (chosen === null) return false;
  const device = ctx.state.devices[chosen.id];
  device.nodes.push(nodeKey(dag.id, node.id));
  if (gui) device.gui++;
  const attempt = node.attempts.length + 1;
  node.attempts.push({
    attempt,
    deviceId: device.id,
    assignedAtMs: ctx.nowMs,
    startedAtMs: null,
    endedAtMs: null,
    outcome: "in-flight",
  });
  node.device = device.id;
  moveNode(ctx, dag, node, "assigned");
  const deadlineMs = ctx.nowMs + (spec.timeoutMs ?? DAG_LIMITS.defaultTimeoutMs);
  ctx.out.push({
    type: "run-attempt",
    dagId: dag.id,
    nodeId: node.id,
    attempt,
    deviceId: device.id,
    deadlineMs,
  });
  armTimer(ctx, `deadline:${dag.id}:${node.id}:${attempt}`, {
    atMs: deadlineMs,
    dagId: dag.id,
    nodeId: node.id,
    kind: "deadline",
    attempt,
  });
  return true;
}

/** Frees the device of a node's in-flight attempt (no-op when it has none). */
export function release(state: SchedulerState, dagId: string, node: NodeState): void {
  const device = node.device === null ? undefined : state.devices[node.device];
  node.device = null;
  if (device === undefined) return;
  const index = device.nodes.indexOf(nodeKey(dagId, node.id));
  if (index >= 0) device.nodes.splice(index, 1);
  if (isGuiNode(node.spec)) device.gui = Math.max(0, device.gui - 1);
}

/** Places a runnable device node now, or moves it to `waiting` with the reason and queues it. */
export function placeOrWait(ctx: StepContext, dag: DagState, node: NodeState): void {
  if (place(ctx, dag, node)) return;
  const spec = node.spec as DeviceNode;
  const gui = isGuiNode(spec);
  const target = effectiveTarget(spec);
  const queueKey = `${gui ? "gui" : "any"}:${JSON.stringify(target)}`;
  let queue = ctx.state.waiting[queueKey];
  if (queue === undefined) {
    const reason = whyWaiting(target, gui, candidates(ctx.state));
    queue = ctx.state.waiting[queueKey] = { target, gui, entries: [], head: 0, reason };
  }
  queue.entries.push({ key: nodeKey(dag.id, node.id), seq: ctx.state.waitSeq++ });
  moveNode(ctx, dag, node, "waiting", queue.reason);
}

/** The queue's oldest node that still waits, skipping (and consuming) stale entries. */
function headOf(state: SchedulerState, queue: WaitQueue) {
  while (queue.head < queue.entries.length) {
    const found = lookup(state, queue.entries[queue.head].key);
    if (found !== null && found.node.status === "waiting") return found;
    queue.head++;
  }
  return null;
}

/**
 * Places waiting nodes, oldest first across queues, until no queue's head can be placed; then refreshes
 * each queue's reason (on every node in it, only when it changed). Call after any change that may free
 * or add a device.
 */
export function placeWaiting(ctx: StepContext): void {
  const state = ctx.state;
  const blocked = new Set<string>();
  for (;;) {
    let best: { key: string; seq: number } | null = null;
    for (const [key, queue] of Object.entries(state.waiting)) {
      if (blocked.has(key) || headOf(state, queue) === null) continue;
      const seq = queue.entries[queue.head].seq;
      if (best === null || seq < best.seq) best = { key, seq };
    }
    if (best === null) break;
    const queue = state.waiting[best.key];
    const { dag, node } = headOf(state, queue)!;
    if (place(ctx, dag, node)) queue.head++;
    else blocked.add(best.key);
  }
  for (const [key, queue] of Object.entries(state.waiting)) {
    if (headOf(state, queue) === null) {
      delete state.waiting[key];
      continue;
    }
    if (queue.head > 64 && queue.head * 2 > queue.entries.length) {
      queue.entries = queue.entries.slice(queue.head);
      queue.head = 0;
    }
    const reason = whyWaiting(queue.target, queue.gui, candidates(state));
    if (reason === queue.reason) continue;
    queue.reason = reason;
    for (let i = queue.head; i < queue.entries.length; i++) {
      const found = lookup(state, queue.entries[i].key);
      if (found !== null && found.node.status === "waiting") found.node.reason = reason;
    }
  }
}
