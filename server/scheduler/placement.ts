/**
 * Placement: assigning device nodes to devices, and the queues of nodes waiting for one. Waiting nodes
 * are grouped by (target, GUI) so a pass costs one placement try per distinct target, not per node:
 * when the oldest node of a queue cannot be placed, neither can the rest.
 *
 * A placement looks only at the devices that match the node's target (kept per target until a device
 * announces itself again), allocates nothing per device, and frees a device's slot in constant time.
 * These caches are derived from the state, never stored: a rebuilt state starts them afresh.
 */
import { type CandidateDevice, matchesTarget, whyWaiting } from "../../shared/dag/matching.ts";
import {
  DAG_LIMITS,
  type DagNode,
  type DeviceNode,
  effectiveTarget,
  isGuiNode,
  type Target,
} from "../../shared/dag/schema.ts";
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

/** Where a node may run, worked out once per spec: its effective target, GUI or not, and its queue's key. */
interface Placement {
  target: Target;
  gui: boolean;
  key: string;
}

const placements = new WeakMap<DagNode, Placement>();

function placementOf(spec: DeviceNode): Placement {
  let found = placements.get(spec);
  if (found === undefined) {
    const target = effectiveTarget(spec);
    const gui = isGuiNode(spec);
    found = { target, gui, key: `${gui ? "gui" : "any"}:${JSON.stringify(target)}` };
    placements.set(spec, found);
  }
  return found;
}

/** Ids of the devices matching each target (by queue key), per devices record. */
const matches = new WeakMap<SchedulerState["devices"], Map<string, string[]>>();

/** Forgets which devices match which target: call when a device comes, goes or announces new capabilities. */
export function forgetMatches(state: SchedulerState): void {
  matches.delete(state.devices);
}

function matching(state: SchedulerState, placement: Placement): string[] {
  let byTarget = matches.get(state.devices);
  if (byTarget === undefined) matches.set(state.devices, byTarget = new Map());
  let ids = byTarget.get(placement.key);
  if (ids === undefined) {
    ids = [];
    for (const device of Object.values(state.devices)) {
      if (matchesTarget(placement.target, device)) ids.push(device.id);
    }
    byTarget.set(placement.key, ids);
  }
  return ids;
}

/**
 * The device to take a node now, as `chooseDevice` would choose among every device: online, a free slot,
 * for a GUI node its screen free; then the least busy, lowest RTT (unknown last), smallest id.
 */
function choose(state: SchedulerState, placement: Placement): DeviceInfo | null {
  let best: DeviceInfo | null = null;
  let bestLoad = 0;
  for (const id of matching(state, placement)) {
    const device = state.devices[id];
    if (!device.online || device.nodes.length >= maxTasksOf(device)) continue;
    if (placement.gui && (device.gui > 0 || device.busy)) continue;
    const load = device.nodes.length + (device.busy ? 1 : 0);
    if (best === null || load < bestLoad || (load === bestLoad && preferred(device, best))) {
      best = device;
      bestLoad = load;
    }
  }
  return best;
}

/** Between two equally busy devices: the lower RTT (unknown last), then the smaller id. */
function preferred(a: DeviceInfo, b: DeviceInfo): boolean {
  const rttA = a.rttMs ?? Number.POSITIVE_INFINITY;
  const rttB = b.rttMs ?? Number.POSITIVE_INFINITY;
  if (rttA !== rttB) return rttA < rttB;
  return a.id < b.id;
}

/** Why no device can take nodes of this placement now, judged among the matching devices. */
function reasonFor(state: SchedulerState, placement: Placement): string {
  const views = matching(state, placement).map((id) => candidate(state.devices[id]));
  return whyWaiting(placement.target, placement.gui, views);
}

/** Positions of the keys in a device's node list, so a slot is freed without searching the list. */
const positions = new WeakMap<string[], Map<string, number>>();

function positionsOf(list: string[]): Map<string, number> {
  let found = positions.get(list);
  if (found === undefined || found.size !== list.length) {
    found = new Map(list.map((key, index) => [key, index]));
    positions.set(list, found);
  }
  return found;
}

function addTask(device: DeviceInfo, key: string): void {
  positionsOf(device.nodes).set(key, device.nodes.length);
  device.nodes.push(key);
}

/** Removes a key from a device's node list: the last key takes its place. */
function removeTask(device: DeviceInfo, key: string): void {
  const at = positionsOf(device.nodes);
  const index = at.get(key);
  if (index === undefined) return;
  at.delete(key);
  const last = device.nodes.pop()!;
  if (index < device.nodes.length) {
    device.nodes[index] = last;
    at.set(last, index);
  }
}

/**
 * Assigns a pending or waiting device node to the best device (a new attempt, `run-attempt` out, and a
 * deadline timer at `timeoutMs`, by default `DAG_LIMITS.defaultTimeoutMs`); returns whether it did.
 */
export function place(ctx: StepContext, dag: DagState, node: NodeState): boolean {
  const spec = node.spec as DeviceNode;
  const placement = placementOf(spec);
  const device = choose(ctx.state, placement);
  if (device === null) return false;
  addTask(device, nodeKey(dag.id, node.id));
  if (placement.gui) device.gui++;
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
  removeTask(device, nodeKey(dagId, node.id));
  if (isGuiNode(node.spec)) device.gui = Math.max(0, device.gui - 1);
}

/** Places a runnable device node now, or moves it to `waiting` with the reason and queues it. */
export function placeOrWait(ctx: StepContext, dag: DagState, node: NodeState): void {
  if (place(ctx, dag, node)) return;
  const placement = placementOf(node.spec as DeviceNode);
  const { target, gui, key: queueKey } = placement;
  let queue = ctx.state.waiting[queueKey];
  if (queue === undefined) {
    const reason = reasonFor(ctx.state, placement);
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
    const reason = reasonFor(state, { target: queue.target, gui: queue.gui, key });
    if (reason === queue.reason) continue;
    queue.reason = reason;
    for (let i = queue.head; i < queue.entries.length; i++) {
      const found = lookup(state, queue.entries[i].key);
      if (found !== null && found.node.status === "waiting") found.node.reason = reason;
    }
  }
}
