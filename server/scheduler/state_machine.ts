/**
 * The Orion scheduler core: deterministic and free of I/O. Events go in with the time they happened;
 * commands come out for the shell to carry out. The state is plain JSON and is updated in place, so the
 * shell can persist it (or the events), and replaying the same events rebuilds the same state.
 * Per-event work is bounded by the nodes the event touches (dependents lists, remaining-dependency
 * counts, per-device node lists, per-target wait queues), never by the size of the DAG.
 */
import { attemptAccepted, attemptEnded, deviceLost, timerFired } from "./attempts.ts";
import { record, type StepContext } from "./context.ts";
import { addNodes, failAttempt, succeed } from "./lifecycle.ts";
import { cancelDag, editDag } from "./operator.ts";
import { forgetMatches, placeWaiting } from "./placement.ts";
import type { Failure, SchedulerCommand, SchedulerEvent, SchedulerState } from "./types.ts";

/** An empty scheduler state. */
export function emptyState(): SchedulerState {
  return { dags: {}, devices: {}, timers: {}, waiting: {}, waitSeq: 0 };
}

/** Applies one event at `nowMs`; `state` is updated in place and returned with the commands produced. */
export function step(
  state: SchedulerState,
  event: SchedulerEvent,
  nowMs: number,
): { state: SchedulerState; commands: SchedulerCommand[] } {
  const ctx: StepContext = { state, nowMs, out: [] };
  apply(ctx, event);
  return { state, commands: ctx.out };
}

/**
 * Resolves what a server restart left in flight, on a state rebuilt from durable storage: every device
 * counts as offline until it reconnects; each device attempt that was `assigned` or `running` fails with
 * `server-restart` (retryable) and its retry policy decides; server ops carry on; every timer is armed
 * again (`start-timer` out; an overdue one fires at once in the shell).
 */
export function recover(
  state: SchedulerState,
  nowMs: number,
): { state: SchedulerState; commands: SchedulerCommand[] } {
  const ctx: StepContext = { state, nowMs, out: [] };
  const armed = Object.keys(state.timers);
  for (const device of Object.values(state.devices)) {
    device.online = false;
    device.busy = false;
    device.nodes = [];
    device.gui = 0;
  }
  const failure: Failure = {
    code: "server-restart",
    message: "Stopped: the server restarted while the attempt was in flight",
    retryable: true,
  };
  for (const dag of Object.values(state.dags)) {
    if (dag.status !== "running") continue;
    for (const id of dag.order) {
      const node = dag.nodes[id];
      const attempt = node.attempts.at(-1);
      if ((node.status !== "assigned" && node.status !== "running") || node.spec.kind === "server") continue;
      node.device = null;
      failAttempt(ctx, dag, node, attempt!.attempt, failure);
    }
  }
  for (const timerId of armed) {
    const timer = state.timers[timerId];
    if (timer !== undefined) ctx.out.push({ type: "start-timer", timerId, atMs: timer.atMs });
  }
  placeWaiting(ctx);
  return { state, commands: ctx.out };
}

/** The core as an object: holds the state, applies events, returns commands. */
export class Scheduler {
  constructor(readonly state: SchedulerState = emptyState()) {}

  /** Applies one event at `nowMs` and returns the commands it produced. */
  step(event: SchedulerEvent, nowMs: number): SchedulerCommand[] {
    return step(this.state, event, nowMs).commands;
  }

  /** After a restart: see `recover()`. */
  recover(nowMs: number): SchedulerCommand[] {
    return recover(this.state, nowMs).commands;
  }
}

function apply(ctx: StepContext, event: SchedulerEvent): void {
  const state = ctx.state;
  switch (event.type) {
    case "dag-submitted": {
      if (state.dags[event.dagId] !== undefined) return;
      const dag = state.dags[event.dagId] = {
        id: event.dagId,
        name: event.name,
        status: "running",
        createdAtMs: ctx.nowMs,
        endedAtMs: null,
        nodes: {},
        order: [],
        unfinished: 0,
        artifacts: {},
        waiters: {},
      };
      record(ctx, { dagId: dag.id, kind: "dag", from: null, to: "running" });
      return addNodes(ctx, dag, event.nodes);
    }
    case "device-ready": {
      const previous = state.devices[event.device.id];
      state.devices[event.device.id] = {
        ...event.device,
        online: true,
        busy: previous?.busy ?? false,
        nodes: previous?.nodes ?? [],
        gui: previous?.gui ?? 0,
      };
      forgetMatches(state);
      return placeWaiting(ctx);
    }
    case "device-updated": {
      const device = state.devices[event.deviceId];
      if (device === undefined) return;
      if (event.rttMs !== undefined) device.rttMs = event.rttMs;
      if (event.busy !== undefined) device.busy = event.busy;
      return placeWaiting(ctx);
    }
    case "device-offline":
      return deviceLost(ctx, event.deviceId);
    case "device-forgotten": {
      const device = state.devices[event.deviceId];
      // Only an offline device with nothing on it is forgotten; one that came back in between stays.
      if (device !== undefined && !device.online && device.nodes.length === 0) {
        delete state.devices[event.deviceId];
        forgetMatches(state);
      }
      return;
    }
    case "attempt-accepted":
      return attemptAccepted(ctx, event);
    case "attempt-ended":
      return attemptEnded(ctx, event);
    case "timer-fired":
      return timerFired(ctx, event.timerId);
    case "artifact-stored": {
      const dag = state.dags[event.dagId];
      if (dag === undefined || dag.artifacts[event.artifact] !== undefined) return;
      dag.artifacts[event.artifact] = ctx.nowMs;
      const waiters = dag.waiters[event.artifact] ?? [];
      delete dag.waiters[event.artifact];
      for (const id of waiters) {
        const node = dag.nodes[id];
        if (node?.status === "running" && dag.status === "running") succeed(ctx, dag, node);
      }
      return;
    }
    case "cancel-dag":
      if (cancelDag(ctx, event.dagId, event.reason)) placeWaiting(ctx);
      return;
    case "edit-dag":
      return editDag(ctx, event.dagId, event.added, event.removed);
  }
}
