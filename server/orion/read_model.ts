/**
 * The Orion read model: what the REST API, the CLI and the dashboard see of a DAG. Views are plain JSON
 * built from the scheduler's state (copies: nothing a reader does reaches the state).
 */
import type { DagNode } from "../../shared/dag/schema.ts";
import { dagMetrics } from "../scheduler/metrics.ts";
import type { Attempt, DagState } from "../scheduler/types.ts";

/** A node as `GET /api/dags/:id` shows it. */
export interface NodeView {
  id: string;
  kind: DagNode["kind"];
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
  metrics: ReturnType<typeof dagMetrics>;
}

/** The view of a DAG at `nowMs` (metrics of a running DAG count up to now). */
export function dagView(dag: DagState, nowMs: number): DagView {
  return {
    id: dag.id,
    name: dag.name,
    state: dag.status,
    createdAt: dag.createdAtMs,
    endedAt: dag.endedAtMs,
    nodes: dag.order.map((id) => {
      const node = dag.nodes[id];
      return {
        id,
        kind: node.spec.kind,
        after: [...node.spec.after],
        state: node.status,
        device: node.device ?? node.attempts.at(-1)?.deviceId ?? null,
        attempts: node.attempts.map((attempt) => ({ ...attempt })),
        startedAt: node.startedAtMs,
        endedAt: node.endedAtMs,
        error: node.error && { ...node.error },
        reason: node.reason,
      };
    }),
    metrics: dagMetrics(dag, nowMs),
  };
}
