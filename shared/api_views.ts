/**
 * The JSON of the REST API (devices, keys, DAGs, steps) and of the `step` events on `GET /api/events`
 * (README, REST API): declared once, built by the server, read by the CLI, the dashboard and the end-to-end
 * tests. Types, plus the order progress displays count node states in.
 */
import type { DagNode } from "./dag/schema.ts";
import type { Failure } from "./protocol/errors.ts";
import type { Capabilities } from "./protocol/messages.ts";

/** A device as `GET /api/devices` lists it; `busy`: a GUI node holds its screen. */
export interface PublicDevice {
  id: string;
  name: string;
  /** `connecting`, `ready`, `busy` or `offline`. */
  state: string;
  /** Round-trip time of the last heartbeat, in ms; null before the first one. */
  rttMs: number | null;
  lastSeen: number | null;
  capabilities: Capabilities | null;
  /** How its frames reach the server (absent where the server does not report media). */
  media?: MediaView;
}

/** The state of the server's WebRTC peer with a device. */
export type PeerState = "connecting" | "connected" | "failed" | "closed";

/** How a device's frames reach the server, as the device list shows it. */
export interface MediaView {
  /**
   * Which path still frames use now: the data channel when it is open, else STREAM_FRAME; null when the
   * device is offline or cannot capture.
   */
  path: "webrtc" | "wss" | null;
  fps: number;
  bytesPerSecond: number;
  lastFrameAgeMs: number | null;
  /** The device's peer: null when it has none (no `media.webrtc`, or offline). */
  peer: PeerState | null;
  /** The video track, once RTP arrives: packets so far and viewers watching. */
  video: { packets: number; bytes: number; viewers: number } | null;
}

/** A key as `GET /api/keys` lists it (never its secret). */
export interface KeyView {
  id: string;
  scope: "device" | "operator" | "enroll";
  name: string;
  createdAt: number;
  revokedAt: number | null;
  /** The device name a device key is bound to (null: a fleet key, or another scope). */
  device: string | null;
  /** The enrollment key that minted it; null for keys an operator created. */
  enrolledBy: string | null;
}

/** One try of a node: as the scheduler keeps it, and as `GET /api/dags/:id` shows it. */
export interface Attempt {
  /** 1 for the first try. */
  attempt: number;
  /** Null for server nodes. */
  deviceId: string | null;
  assignedAtMs: number;
  /** When the device accepted (server nodes: when the op began). */
  startedAtMs: number | null;
  endedAtMs: number | null;
  outcome: "in-flight" | "succeeded" | "failed" | "cancelled";
  /** The failure's code (`device-lost`, `timeout`, `server-restart`, ...). */
  code?: string;
  reason?: string;
}

/** A DAG's metrics as `GET /api/dags/:id` shows them (running DAGs: up to now). */
export interface DagMetrics {
  /** Submit to end (or to now while running), in ms. */
  totalMs: number;
  /** The chain of dependent nodes with the longest summed run time. */
  criticalPath: { nodes: string[]; ms: number };
  /** Sum of node run times divided by wall time. */
  parallelism: number;
  /** Per node: from ready (dependencies met) to first start, in ms. */
  queueWaitMs: Record<string, number | null>;
  /** Per node: attempts made. */
  attempts: Record<string, number>;
}

/** A node as `GET /api/dags/:id` shows it. */
export interface NodeView {
  id: string;
  kind: DagNode["kind"];
  after: string[];
  state: string;
  /** The device of the in-flight attempt, else of the last one; null for none (and for server nodes). */
  device: string | null;
  attempts: Attempt[];
  startedAt: number | null;
  endedAt: number | null;
  error: { code: string; message: string } | null;
  reason: string | null;
}

/** A DAG as `GET /api/dags/:id` shows it. */
export interface DagView {
  id: string;
  name: string;
  state: string;
  createdAt: number;
  endedAt: number | null;
  nodes: NodeView[];
  metrics: DagMetrics;
}

/** A DAG as `GET /api/dags` lists it; running ones count their nodes by state in `progress`. */
export interface DagSummary {
  id: string;
  name: string;
  state: string;
  createdAt: number;
  endedAt: number | null;
  nodes: number;
  progress?: Record<string, number>;
}

/** A step as `GET /api/dags/:id/nodes/:nodeId/steps` shows it. */
export interface StepView {
  attempt: number;
  index: number;
  type: string;
  args: unknown;
  startedAt: number;
  endedAt: number;
  ok: boolean;
  error: Failure | null;
  output: unknown;
  /** The URL path of the frame the step used, or null (none, or deleted by retention). */
  frame: string | null;
}

/** A step as its `step` event carries it (besides the event's id, `dagId` and `atMs`). */
export interface StepEventData extends StepView {
  kind: "step";
  nodeId: string;
}

/** Node states, in the order progress displays (the CLI's block, the dashboard's bar) count them. */
export const NODE_STATE_ORDER = [
  "succeeded",
  "running",
  "assigned",
  "waiting",
  "pending",
  "failed",
  "skipped",
  "cancelled",
] as const;
