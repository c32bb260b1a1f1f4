/** The REST shapes the dashboard reads (README, REST API); the DAG and step views are shared with the server. */

export type {
  Attempt,
  DagMetrics,
  DagSummary,
  DagView,
  NodeView,
  StepEventData,
  StepView,
} from "../../shared/api_views.ts";

/** A device as `GET /api/devices` lists it. */
export interface Device {
  id: string;
  name: string;
  state: "connecting" | "ready" | "busy" | "offline" | string;
  rttMs: number | null;
  lastSeen: number | null;
  capabilities: {
    name: string;
    os: { platform: string; version: string; hostname: string };
    apps: string[];
    screens: Array<{ width: number; height: number }>;
    input: { mouse: boolean; keyboard: boolean };
    media: { capture: boolean; webrtc: boolean };
    tags: string[];
    maxTasks?: number;
    run?: boolean;
  } | null;
  media?: {
    path: "webrtc" | "wss" | null;
    fps: number;
    bytesPerSecond: number;
    lastFrameAgeMs: number | null;
    peer: string | null;
    video: { packets: number; bytes: number; viewers: number } | null;
  };
}

/** An action held for an operator. */
export interface Approval {
  dagId: string;
  nodeId: string;
  attempt: number;
  index: number;
  step: { type: string } & Record<string, unknown>;
  reason: string;
  since: number;
}

/** A key as `GET /api/keys` lists it. */
export interface Key {
  id: string;
  scope: "device" | "operator" | "enroll" | string;
  name: string;
  createdAt: number;
  revokedAt: number | null;
  device?: string | null;
  enrolledBy?: string | null;
}

/** A stored artifact of a DAG. */
export interface Artifact {
  name: string;
  size: number;
  sha256: string;
  createdAt: number;
  producedBy: { nodeId: string; deviceId: string };
}

/** A DAG as submitted (what the planner returns and the operator pastes). */
export interface DagSpec {
  name?: string;
  nodes: Array<{ id: string; kind?: string; after?: string[] } & Record<string, unknown>>;
}
