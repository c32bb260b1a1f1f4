/**
 * The REST shapes the dashboard reads (README, REST API). The device, key, DAG and step views are declared
 * once for the server, the CLI and the dashboard, in `shared/api_views.ts`.
 */

export type {
  Attempt,
  DagMetrics,
  DagSummary,
  DagView,
  KeyView as Key,
  NodeView,
  PublicDevice as Device,
  StepEventData,
  StepView,
} from "../../shared/api_views.ts";

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
