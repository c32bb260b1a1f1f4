/** Test fixtures for the scheduler core: devices, validated nodes, and commands written compactly. */
import type { DagNode } from "../../shared/dag/schema.ts";
import { validateDag } from "../../shared/dag/validate.ts";
import type { Capabilities } from "../../shared/protocol/mod.ts";
import type { Failure, SchedulerCommand, SchedulerEvent } from "./types.ts";

/** Capabilities of a Linux device with mouse and keyboard, plus `extra`. */
export function caps(name: string, extra: Partial<Capabilities> = {}): Capabilities {
  return {
    name,
    os: { platform: "linux", version: "", hostname: name },
    apps: [],
    screens: [{ width: 1280, height: 800 }],
    input: { mouse: true, keyboard: true },
    media: { capture: true, webrtc: false },
    tags: [],
    maxTasks: 1,
    run: false,
    ...extra,
  };
}

/** A `device-ready` event. */
export function ready(
  id: string,
  rttMs: number | null = 1,
  extra: Partial<Capabilities> = {},
): SchedulerEvent {
  return { type: "device-ready", device: { id, name: id, capabilities: caps(id, extra), rttMs } };
}

/** The nodes of a DAG that must validate (agents allowed). */
export function nodes(dag: unknown): DagNode[] {
  const valid = validateDag(dag, { allowAgents: true });
  if (!valid.ok) throw new Error(JSON.stringify(valid.error));
  return valid.value.dag.nodes;
}

/** A `dag-submitted` event for a validated DAG. */
export function submit(dagId: string, dag: { name: string; nodes: unknown[] }): SchedulerEvent {
  return { type: "dag-submitted", dagId, name: dag.name, nodes: nodes(dag) };
}

/** A script node (GUI when it has a non-wait step). */
export function script(id: string, extra: Record<string, unknown> = {}) {
  return { id, kind: "script", target: { device: "A" }, steps: [{ type: "wait", ms: 1 }], ...extra };
}

/** A successful `attempt-ended`. */
export function ok(dagId: string, nodeId: string, attempt = 1): SchedulerEvent {
  return { type: "attempt-ended", dagId, nodeId, attempt, ok: true };
}

/** A failed `attempt-ended`. */
export function fail(dagId: string, nodeId: string, attempt: number, failure: Failure): SchedulerEvent {
  return { type: "attempt-ended", dagId, nodeId, attempt, ok: false, failure };
}

/** An `attempt-accepted`. */
export function accepted(dagId: string, nodeId: string, attempt = 1): SchedulerEvent {
  return { type: "attempt-accepted", dagId, nodeId, attempt };
}

/**
 * Commands as short strings, for exact assertions: `run n#1 on A until 60040`, `cancel n#1 (timeout)`,
 * `timer retry:d:n:1 at 110`, `untimer deadline:d:n:1`, `n: pending -> assigned`, `dag d: running -> ...`.
 */
export function brief(commands: readonly SchedulerCommand[]): string[] {
  return commands.map((c) => {
    switch (c.type) {
      case "run-attempt":
        return `run ${c.nodeId}#${c.attempt} on ${c.deviceId} until ${c.deadlineMs}`;
      case "cancel-attempt":
        return `cancel ${c.nodeId}#${c.attempt} (${c.reason})`;
      case "start-timer":
        return `timer ${c.timerId} at ${c.atMs}`;
      case "cancel-timer":
        return `untimer ${c.timerId}`;
      case "record": {
        const r = c.record;
        const subject = r.kind === "dag" ? `dag ${r.dagId}` : r.nodeId;
        return `${subject}: ${r.from ?? "new"} -> ${r.to}`;
      }
    }
  });
}

/** Only the `run-attempt` commands. */
export function runs(commands: readonly SchedulerCommand[]) {
  return commands.filter((c) => c.type === "run-attempt") as Extract<
    SchedulerCommand,
    { type: "run-attempt" }
  >[];
}

/** A retryable failure with `code`. */
export function failure(code: Failure["code"], retryable = true): Failure {
  return { code, message: `Stopped: ${code}`, retryable };
}
