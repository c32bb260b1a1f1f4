/** The REST shapes the dashboard reads (README, REST API). */

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

/** One attempt of a node. */
export interface Attempt {
  attempt: number;
  deviceId: string | null;
  assignedAtMs: number;
  startedAtMs: number | null;
  endedAtMs: number | null;
  outcome: string;
  code?: string;
  reason?: string;
}

/** A node as `GET /api/dags/:id` shows it. */
export interface NodeView {
  id: string;
  kind: string;
  after: string[];
  state: string;
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
  metrics?: Record<string, unknown>;
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
  error: { code: string; message: string; retryable?: boolean } | null;
  output: unknown;
  frame: string | null;
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
