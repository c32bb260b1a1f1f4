/**
 * Outcomes of attempts and timers: a device accepts or answers, a device is lost, a deadline passes, a
 * backoff or a server sleep ends. Answers for attempts that are no longer current (late, duplicate, or
 * for a device that lost the node) change nothing, so nothing runs twice unless a retry allows it.
 */
import { lookup, moveNode, type StepContext } from "./context.ts";
import { failAttempt, isCurrentAttempt, makeRunnable, succeed } from "./lifecycle.ts";
import { placeWaiting, release } from "./placement.ts";
import type { DagState, Failure, NodeState, SchedulerEvent } from "./types.ts";

type EventOf<T extends SchedulerEvent["type"]> = Extract<SchedulerEvent, { type: T }>;

/** The device accepted the current attempt: the node is `running` from now. */
export function attemptAccepted(ctx: StepContext, event: EventOf<"attempt-accepted">): void {
  const found = lookup(ctx.state, `${event.dagId}/${event.nodeId}`);
  if (found === null || found.node.status !== "assigned" || !isCurrentAttempt(found.node, event.attempt)) {
    return;
  }
  const { dag, node } = found;
  node.attempts.at(-1)!.startedAtMs = ctx.nowMs;
  node.startedAtMs ??= ctx.nowMs;
  moveNode(ctx, dag, node, "running");
}

/**
 * The device answered for the current attempt: its device is freed (and offered to waiting nodes first),
 * then the node succeeds, or the failure goes to the retry policy.
 */
export function attemptEnded(ctx: StepContext, event: EventOf<"attempt-ended">): void {
  const found = lookup(ctx.state, `${event.dagId}/${event.nodeId}`);
  if (found === null || found.node.spec.kind === "server" || !isCurrentAttempt(found.node, event.attempt)) {
    return;
  }
  const { dag, node } = found;
  release(ctx.state, dag.id, node);
  placeWaiting(ctx);
  if (event.ok) return succeed(ctx, dag, node);
  const failure = event.failure ?? {
    code: "internal",
    message: "Cannot run node: the attempt failed without a reason",
    retryable: false,
  };
  failAttempt(ctx, dag, node, event.attempt, failure);
}

/** Stops an in-flight device attempt: `cancel-attempt` out, device freed, then the failure is handled. */
function stopAttempt(ctx: StepContext, dag: DagState, node: NodeState, failure: Failure): void {
  const attempt = node.attempts.at(-1)!.attempt;
  ctx.out.push({ type: "cancel-attempt", dagId: dag.id, nodeId: node.id, attempt, reason: failure.code });
  release(ctx.state, dag.id, node);
  failAttempt(ctx, dag, node, attempt, failure);
}

/**
 * A device went offline: each attempt assigned to or running on it fails with `device-lost`
 * (retryable), so the retry policy decides where (any matching device, or this one when it returns).
 */
export function deviceLost(ctx: StepContext, deviceId: string): void {
  const device = ctx.state.devices[deviceId];
  if (device === undefined) return;
  device.online = false;
  for (const key of [...device.nodes]) {
    const found = lookup(ctx.state, key);
    if (found === null) continue;
    stopAttempt(ctx, found.dag, found.node, {
      code: "device-lost",
      message: `Stopped: device ${device.name} went offline during the attempt`,
      retryable: true,
    });
  }
  device.nodes = [];
  device.gui = 0;
  placeWaiting(ctx);
}

/** A timer fired: a retry's backoff ended, a server sleep ended, or a deadline passed (`timeout`). */
export function timerFired(ctx: StepContext, timerId: string): void {
  const timer = ctx.state.timers[timerId];
  if (timer === undefined) return;
  delete ctx.state.timers[timerId];
  const dag = ctx.state.dags[timer.dagId];
  const node = dag?.nodes[timer.nodeId];
  if (node === undefined || dag.status !== "running") return;
  node.timers = node.timers.filter((id) => id !== timerId);
  if (timer.kind === "retry" && node.status === "pending") return makeRunnable(ctx, dag, node);
  if (timer.kind === "sleep" && node.status === "running") return succeed(ctx, dag, node);
  if (timer.kind !== "deadline") return;
  const timeoutMs = node.spec.timeoutMs;
  const failure: Failure = {
    code: "timeout",
    message: `Stopped: node ${node.id} passed its ${timeoutMs ?? "default"} ms timeout`,
    retryable: true,
  };
  if (timer.attempt === undefined) {
    if (node.status === "running") failAttempt(ctx, dag, node, node.attempts.at(-1)!.attempt, failure);
  } else if (isCurrentAttempt(node, timer.attempt) && node.device !== null) {
    stopAttempt(ctx, dag, node, failure);
    placeWaiting(ctx);
  }
}
