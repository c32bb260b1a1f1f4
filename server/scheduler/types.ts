/**
 * The scheduler's state, events and commands: plain JSON data, so the state can be stored, restored
 * and rebuilt by replaying the same events.
 */
import type { Attempt } from "../../shared/api_views.ts";
import type { DagNode, Target } from "../../shared/dag/schema.ts";
import type { Capabilities, Failure } from "../../shared/protocol/mod.ts";
import type { DagStatus, NodeStatus } from "./transitions.ts";

export {
  assertTransition,
  type DagStatus,
  IllegalTransitionError,
  isFinal,
  NODE_TRANSITIONS,
  type NodeStatus,
} from "./transitions.ts";

export type { Attempt, Failure };

/** A node and its progress. */
export interface NodeState {
  id: string;
  spec: DagNode;
  status: NodeStatus;
  /** Ids of the nodes that list this one in `after`. */
  dependents: string[];
  /** Dependencies not yet succeeded. */
  remaining: number;
  attempts: Attempt[];
  /** The device of the in-flight attempt. */
  device: string | null;
  /** When every dependency had succeeded. */
  readyAtMs: number | null;
  /** When the first attempt started. */
  startedAtMs: number | null;
  endedAtMs: number | null;
  /** The last failure. */
  error: { code: string; message: string } | null;
  /** Why a node waits, or why it was skipped, cancelled or is about to retry. */
  reason: string | null;
  /** Ids of the timers armed for it. */
  timers: string[];
}

/** A DAG and its progress. */
export interface DagState {
  id: string;
  name: string;
  status: DagStatus;
  createdAtMs: number;
  endedAtMs: number | null;
  nodes: Record<string, NodeState>;
  /** Node ids in submission order (plus added ones). */
  order: string[];
  /** Nodes not yet in a final state. */
  unfinished: number;
  /** Artifacts stored on the server, with when they arrived. */
  artifacts: Record<string, number>;
  /** Running `waitFor` server nodes by the artifact they wait for. */
  waiters: Record<string, string[]>;
}

/** A device as the scheduler tracks it. */
export interface DeviceInfo {
  id: string;
  name: string;
  capabilities: Capabilities;
  online: boolean;
  rttMs: number | null;
  /** Its screen is taken by something other than the scheduler (an operator's actions). */
  busy: boolean;
  /** Keys (`dagId/nodeId`) of the nodes assigned to or running on it: at most its `capabilities.maxTasks`. */
  nodes: string[];
  /** How many of those are GUI nodes (at most one). */
  gui: number;
}

/** A pending timer: a retry's backoff, a server sleep, or a deadline. */
export interface TimerInfo {
  atMs: number;
  dagId: string;
  nodeId: string;
  kind: "retry" | "sleep" | "deadline";
  /** For a device attempt's deadline: which attempt. */
  attempt?: number;
}

/** Nodes waiting for a device, per distinct (target, GUI) pair, oldest first. */
export interface WaitQueue {
  target: Target;
  gui: boolean;
  /** Entries before `head` are consumed; an entry whose node no longer waits is skipped. */
  entries: Array<{ key: string; seq: number }>;
  head: number;
  /** The reason shown on every node in the queue. */
  reason: string;
}

/** The whole scheduler state. */
export interface SchedulerState {
  dags: Record<string, DagState>;
  devices: Record<string, DeviceInfo>;
  timers: Record<string, TimerInfo>;
  waiting: Record<string, WaitQueue>;
  /** Orders waiting nodes across queues. */
  waitSeq: number;
}

/**
 * Inputs to the scheduler. The brief's events map as: node started = `attempt-accepted`, node result =
 * `attempt-ended`, node timeout and backoff elapsed = `timer-fired` (deadline and retry timers),
 * device busy-changed = `device-updated`.
 */
export type SchedulerEvent =
  | { type: "dag-submitted"; dagId: string; name: string; nodes: DagNode[] }
  | {
    type: "device-ready";
    device: { id: string; name: string; capabilities: Capabilities; rttMs: number | null };
  }
  | { type: "device-updated"; deviceId: string; rttMs?: number | null; busy?: boolean }
  | { type: "device-offline"; deviceId: string }
  /** An operator (or the retention window) forgot an offline device: it is no longer a candidate. */
  | { type: "device-forgotten"; deviceId: string }
  | { type: "attempt-accepted"; dagId: string; nodeId: string; attempt: number }
  | { type: "attempt-ended"; dagId: string; nodeId: string; attempt: number; ok: boolean; failure?: Failure }
  | { type: "timer-fired"; timerId: string }
  | { type: "artifact-stored"; dagId: string; artifact: string }
  | { type: "cancel-dag"; dagId: string; reason: string }
  | { type: "edit-dag"; dagId: string; added: DagNode[]; removed: string[] };

/** A transition, recorded durably and streamed to operators. */
export interface TransitionRecord {
  dagId: string;
  nodeId?: string;
  kind: "dag" | "node";
  from: string | null;
  /** A node or DAG state, or `removed` for a node an edit took out. */
  to: string;
  atMs: number;
  attempt?: number;
  deviceId?: string;
  reason?: string;
}

/**
 * What the shell must do. The brief's commands map as: assign + execute = `run-attempt` (the shell
 * sends EXECUTE_TASK), cancel-on-device = `cancel-attempt`, emit-event = `record`; server ops need no
 * command: sleeps are timers and `waitFor` completes on `artifact-stored`.
 */
export type SchedulerCommand =
  | {
    type: "run-attempt";
    dagId: string;
    nodeId: string;
    attempt: number;
    deviceId: string;
    deadlineMs: number;
  }
  | { type: "cancel-attempt"; dagId: string; nodeId: string; attempt: number; reason: string }
  | { type: "start-timer"; timerId: string; atMs: number }
  | { type: "cancel-timer"; timerId: string }
  | { type: "record"; record: TransitionRecord };
