/**
 * Validation of edits to a running DAG: nodes may be added (depending on existing nodes) and pending or
 * waiting nodes removed, as long as the DAG stays acyclic, within limits, every artifact keeps its
 * producer upstream, and no running or finished node changes.
 */
import { err, ok, type Result } from "../result.ts";
import { checkGraph, type DagError, dagError } from "./graph.ts";
import { DAG_LIMITS, type DagNode, NodeSchema } from "./schema.ts";
import { nodeRules, schemaErrors, type ValidateContext } from "./rules.ts";

/** An edit to a running DAG: raw node objects to add, node ids to remove. */
export interface DagEdit {
  add?: unknown[];
  remove?: string[];
}

/** What an edit is checked against: each existing node's state (`pending`, `running`, ...). */
export type EditContext = ReadonlyMap<string, string>;

/** An accepted edit: the DAG's nodes afterwards, and what was added and removed. */
export interface ValidEdit {
  nodes: DagNode[];
  added: DagNode[];
  removed: string[];
}

/** Node states that an edit may remove: the node has not started and will not start on its own now. */
export const REMOVABLE_STATES: readonly string[] = ["pending", "waiting"] as const;

/**
 * Checks `edit` against the DAG's `current` nodes and their `states`. Refusals: unknown or unremovable
 * (running, finished) nodes, ids already in use, nodes left depending on a removed one, cycles,
 * artifacts without an upstream producer, and limits; each names the node and the rule.
 */
export function validateEdit(
  current: readonly DagNode[],
  states: EditContext,
  edit: DagEdit,
  ctx: ValidateContext = {},
): Result<ValidEdit, DagError[]> {
  const remove = new Set(edit.remove ?? []);
  const errors: DagError[] = [];
  for (const id of remove) {
    const state = states.get(id);
    if (state === undefined) {
      errors.push(
        dagError("unknown-node", "edit-known-nodes", `Cannot remove node ${id}: not in the DAG`, id),
      );
    } else if (!REMOVABLE_STATES.includes(state)) {
      const message =
        `Cannot remove node ${id}: it is ${state}; only pending or waiting nodes can be removed`;
      errors.push(dagError("node-not-removable", "edit-untouched", message, id));
    }
  }
  const added = parseAdded(edit.add ?? [], errors);
  for (const node of added) {
    if (states.has(node.id) && !remove.has(node.id)) {
      const message =
        `Cannot add node ${node.id}: a node with that id exists, and existing nodes cannot change`;
      errors.push(dagError("duplicate-node", "edit-untouched", message, node.id));
    }
  }
  errors.push(...nodeRules(added, ctx));
  const kept = current.filter((n) => !remove.has(n.id));
  for (const node of kept) {
    for (const dep of node.after) {
      if (remove.has(dep) && !remove.has(node.id)) {
        const message = `Cannot remove node ${dep}: node ${node.id} depends on it (remove both, or neither)`;
        errors.push(dagError("removed-dependency", "edit-dependencies", message, node.id));
      }
    }
  }
  const total = kept.length + added.length;
  if (total > DAG_LIMITS.maxNodes) {
    const message = `Cannot edit: the DAG would have ${total} nodes; the limit is ${DAG_LIMITS.maxNodes}`;
    errors.push(dagError("limit-exceeded", "limits", message));
  }
  if (errors.length > 0) return err(errors);
  const nodes = [...kept, ...added];
  const graph = checkGraph(nodes);
  if (graph.length > 0) return err(graph);
  return ok({ nodes, added, removed: [...remove] });
}

function parseAdded(raw: readonly unknown[], errors: DagError[]): DagNode[] {
  const added: DagNode[] = [];
  raw.forEach((item, index) => {
    const parsed = NodeSchema.safeParse(item);
    if (parsed.success) return void added.push(parsed.data);
    const issues = parsed.error.issues.map((issue) => ({ ...issue, path: ["add", index, ...issue.path] }));
    errors.push(...schemaErrors({ add: raw }, issues, "add"));
  });
  return added;
}
