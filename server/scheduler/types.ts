/** The scheduler's state, events and commands: plain JSON data, so the state can be stored and restored. */
import type { DagNode } from "../../shared/dag/schema.ts";
import type { Capabilities, ErrorCode } from "../../shared/protocol/mod.ts";

/** Node states. */
export type NodeStatus =
  | "pending"
  | "waiting"
  | "assigned"
  | "running"
  | "succeeded"
  | "failed"
  | "skipped"
  | "cancelled";
/** DAG states. */
export type DagStatus = "running" | "succeeded" | "failed" | "cancelled";

/** Every legal node transition; anything else is refused. */
export const NODE_TRANSITIONS: Readonly<Record<NodeStatus, readonly NodeStatus[]>> = {
  pending: ["waiting", "assigned", "running", "skipped", "cancelled"],
  waiting: ["assigned", "skipped", "cancelled"],
  assigned: ["running", "succeeded", "pending", "failed", "cancelled"],
  running: ["succeeded", "pending", "failed", "cancelled"],
  succeeded: [],
  failed: [],
  skipped: [],
  cancelled: [],
};

/** Whether a node state is final. */
export function isFinal(status: NodeStatus): boolean {
  return NODE_TRANSITIONS[status].length === 0;
}

/** A failure as data. */
export interface Failure {
  code: ErrorCode | "server-restart";
  message: string;
  retryable: boolean;
}

/** One try of a node. */
export interface Attempt {
  attempt: number;
  deviceId: string | null;
  assignedAtMs: number;
  startedAtMs: number | null;
  endedAtMs: number | null;
  outcome: "in-flight" | "succeeded" | "failed" | "cancelled";
  code?: string;
  reason?: string;
}

/** A node and its progress. */
export interface NodeState {
  id: string;
  spec: DagNode;
  status: NodeStatus;
  dependents: string[];
  /** Dependencies not yet succeeded. */
  remaining: number;
  attempts: Attempt[];
  device: string | null;
  /** When every dependency had succeeded. */
  readyAtMs: number | null;
  startedAtMs: number | null;
  endedAtMs: number | null;
  error: { code: string; message: string } | null;
  /** Why a node waits, or why it was skipped or cancelled. */
  reason: string | null;
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
  unfinished: number;
  storedArtifacts: string[];
}

/** A device as the scheduler tracks it. */
export interface DeviceInfo {
  id: string;
  name: string;
  capabilities: Capabilities;
  online: boolean;
  rttMs: number | null;
  active: number;
  gui: number;
}

/** A pending timer. */
export interface TimerInfo {
  atMs: number;
  dagId: string;
  nodeId: string;
  kind: "retry" | "sleep" | "deadline";
}

/** The whole scheduler state. */
export interface SchedulerState {
  dags: Record<string, DagState>;
  devices: Record<string, DeviceInfo>;
  timers: Record<string, TimerInfo>;
  /** `dagId/nodeId` of nodes waiting for a device, oldest first. */
  waiting: string[];
}

/** Inputs to the scheduler. */
export type SchedulerEvent =
  | { type: "dag-submitted"; dagId: string; name: string; nodes: DagNode[] }
  | {
    type: "device-ready";
    device: { id: string; name: string; capabilities: Capabilities; rttMs: number | null };
  }
  | { type: "device-offline"; deviceId: string }
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
  to: string;
  atMs: number;
  attempt?: number;
  deviceId?: string;
  reason?: string;
}

/** What the shell must do. */
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

/** A refused transition. */
export class IllegalTransitionError extends Error {
  readonly code = "illegal-transition";
  constructor(readonly nodeId: string, readonly from: NodeStatus, readonly to: NodeStatus) {
    super(`Cannot move node ${nodeId} from ${from} to ${to}`);
    this.name = "IllegalTransitionError";
  }
}
