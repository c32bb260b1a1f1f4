/**
 * The Orion read model: what the REST API, the CLI and the dashboard see of a DAG. Views are plain JSON
 * built from the scheduler's state (copies: nothing a reader does reaches the state). Also the checks an
 * operator's request on a DAG passes before it becomes a scheduler event.
 */
import type { DagView } from "../../shared/api_views.ts";
import type { DagNode } from "../../shared/dag/schema.ts";
import { type DagEdit, type DagError, validateEdit } from "../../shared/dag/validate.ts";
import { failure, FailureError } from "../../shared/protocol/mod.ts";
import { err, ok, type Result } from "../../shared/result.ts";
import { dagMetrics } from "../scheduler/metrics.ts";
import type { DagState } from "../scheduler/types.ts";

export type { DagView };

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

/** The DAG `id` if it is running; throws `unknown-dag` or `dag-finished` otherwise. */
export function runningDag(dag: DagState | undefined, id: string, what: "cancel" | "edit"): DagState {
  if (dag === undefined) throw new FailureError(failure("unknown-dag", id));
  if (dag.status !== "running") {
    const message = `Cannot ${what}: DAG ${dag.id} is ${dag.status}`;
    throw new FailureError({ code: "dag-finished", message, retryable: false });
  }
  return dag;
}

/** Why an edit was refused: every error, and whether it conflicts with the DAG's progress (HTTP 409). */
export interface EditRefusal {
  conflict: boolean;
  errors: DagError[];
}

/** Checks an edit against the DAG's live nodes and their states. */
export function checkEdit(
  dag: DagState,
  edit: DagEdit,
): Result<{ added: DagNode[]; removed: string[] }, EditRefusal> {
  const states = new Map(dag.order.map((nodeId) => [nodeId, dag.nodes[nodeId].status as string]));
  const checked = validateEdit(dag.order.map((nodeId) => dag.nodes[nodeId].spec), states, edit, {
    allowAgents: true,
  });
  if (!checked.ok) {
    // A self-dependency is a cycle of one node: both conflict with the DAG as it runs.
    const conflict = checked.error.some((e) =>
      e.rule === "edit-untouched" || e.code === "cycle" || e.code === "self-dependency"
    );
    return err({ conflict, errors: checked.error });
  }
  return ok({ added: checked.value.added, removed: checked.value.removed });
}
