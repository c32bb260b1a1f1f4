/** The DAG (and node) a route under /api/dags names, or 404 `unknown-dag` / `unknown-dag-node`. */
import { HttpError } from "../http/errors.ts";
import type { DagView } from "../orion/read_model.ts";

/** `dag` (the view of DAG `id`, live or archived), or 404 `unknown-dag`. */
export function foundDag(dag: DagView | undefined, id: string): DagView {
  if (dag === undefined) throw new HttpError("unknown-dag", `Cannot find DAG ${id}`);
  return dag;
}

/** `dag` when it has node `nodeId`; else 404 `unknown-dag` or `unknown-dag-node`. */
export function foundDagNode(dag: DagView | undefined, id: string, nodeId: string): DagView {
  const found = foundDag(dag, id);
  if (!found.nodes.some((n) => n.id === nodeId)) {
    throw new HttpError("unknown-dag-node", `Cannot find node ${nodeId} in DAG ${id}`);
  }
  return found;
}
