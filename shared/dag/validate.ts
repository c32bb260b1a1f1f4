/**
 * Validation of submitted DAGs and of edits to running ones. Each error names the node and the rule.
 * Graph walks are iterative, so a 10,000-node chain cannot overflow the stack.
 */
import { err, ok, type Result } from "../result.ts";
import { type Dag, type DagNode, DagSchema } from "./schema.ts";

/** One validation failure. */
export interface DagError {
  code: string;
  rule: string;
  node?: string;
  message: string;
}

/** A valid DAG with its nodes in a topological order. */
export interface ValidDag {
  dag: Dag;
  order: string[];
}

function error(code: string, rule: string, message: string, node?: string): DagError {
  return node === undefined ? { code, rule, message } : { code, rule, node, message };
}

/** Checks shape and limits (zod), then the graph rules. */
export function validateDag(
  input: unknown,
  options: { allowAgents?: boolean } = {},
): Result<ValidDag, DagError[]> {
  const parsed = DagSchema.safeParse(input);
  if (!parsed.success) {
    return err(
      parsed.error.issues.slice(0, 20).map((issue) => {
        const path = issue.path;
        const nodeIndex = path[0] === "nodes" && typeof path[1] === "number" ? path[1] : undefined;
        const nodeId = nodeIndex === undefined
          ? undefined
          : (input as { nodes?: Array<{ id?: unknown }> }).nodes?.[nodeIndex]?.id;
        const where = path.join(".");
        return error(
          "invalid-dag",
          "schema",
          `${where ? `${where}: ` : ""}${issue.message}`,
          typeof nodeId === "string" ? nodeId : undefined,
        );
      }),
    );
  }
  const dag = parsed.data;
  const errors = checkGraph(dag.nodes);
  if (!options.allowAgents) {
    for (const node of dag.nodes) {
      if (node.kind === "agent") {
        errors.push(
          error(
            "agent-unsupported",
            "agent-nodes",
            `node ${node.id}: agent nodes need the Brain, which is not available yet`,
            node.id,
          ),
        );
      }
    }
  }
  if (errors.length > 0) return err(errors);
  return ok({ dag, order: topologicalOrder(dag.nodes).order });
}

/** The graph rules over a list of nodes: unique ids, known dependencies, acyclic, artifact provenance. */
export function checkGraph(nodes: readonly DagNode[]): DagError[] {
  const errors: DagError[] = [];
  const byId = new Map<string, DagNode>();
  for (const node of nodes) {
    if (byId.has(node.id)) {
      errors.push(error("duplicate-node", "unique-ids", `node id ${node.id} is used twice`, node.id));
    }
    byId.set(node.id, node);
  }
  for (const node of nodes) {
    for (const dep of node.after) {
      if (dep === node.id) {
        errors.push(
          error("self-dependency", "no-self-dependency", `node ${node.id} depends on itself`, node.id),
        );
      } else if (!byId.has(dep)) {
        errors.push(
          error(
            "unknown-dependency",
            "known-dependencies",
            `node ${node.id} depends on unknown node ${dep}`,
            node.id,
          ),
        );
      }
    }
  }
  if (errors.length > 0) return errors;
  const { order, cycle } = topologicalOrder(nodes);
  if (cycle.length > 0) {
    return [error("cycle", "acyclic", `nodes form a cycle: ${cycle.join(" -> ")}`, cycle[0])];
  }
  const producer = new Map<string, string>();
  for (const node of nodes) {
    for (const output of node.outputs) {
      const other = producer.get(output.artifact);
      if (other !== undefined) {
        errors.push(
          error(
            "duplicate-artifact",
            "one-producer",
            `artifact ${output.artifact} is produced by ${other} and ${node.id}`,
            node.id,
          ),
        );
      }
      producer.set(output.artifact, node.id);
    }
  }
  const ancestors = ancestorSets(nodes, order, byId);
  for (const node of nodes) {
    const needed = [
      ...node.inputs.map((i) => i.artifact),
      ...(node.kind === "server" && "waitFor" in node.op ? [node.op.waitFor] : []),
    ];
    for (const artifact of needed) {
      const from = producer.get(artifact);
      if (from === undefined) {
        errors.push(
          error(
            "unknown-artifact",
            "inputs-produced-upstream",
            `node ${node.id} takes artifact ${artifact}, which no node produces`,
            node.id,
          ),
        );
      } else if (!ancestors.get(node.id)!.has(from)) {
        errors.push(
          error(
            "artifact-not-upstream",
            "inputs-produced-upstream",
            `node ${node.id} takes artifact ${artifact} from ${from}, which is not upstream of it`,
            node.id,
          ),
        );
      }
    }
  }
  return errors;
}

/** Kahn's algorithm; when nodes remain, walks one cycle among them. */
export function topologicalOrder(nodes: readonly DagNode[]): { order: string[]; cycle: string[] } {
  const remaining = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const node of nodes) {
    remaining.set(node.id, node.after.length);
    for (const dep of node.after) (dependents.get(dep) ?? dependents.set(dep, []).get(dep)!).push(node.id);
  }
  const queue = nodes.filter((n) => n.after.length === 0).map((n) => n.id);
  const order: string[] = [];
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i];
    order.push(id);
    for (const next of dependents.get(id) ?? []) {
      const left = remaining.get(next)! - 1;
      remaining.set(next, left);
      if (left === 0) queue.push(next);
    }
  }
  if (order.length === nodes.length) return { order, cycle: [] };
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const stuck = new Set([...remaining].filter(([, left]) => left > 0).map(([id]) => id));
  let current = [...stuck][0];
  const seen = new Map<string, number>();
  const path: string[] = [];
  while (!seen.has(current)) {
    seen.set(current, path.length);
    path.push(current);
    current = byId.get(current)!.after.find((dep) => stuck.has(dep))!;
  }
  const cycle = path.slice(seen.get(current)!).reverse();
  return { order, cycle: [...cycle, cycle[0]] };
}

/** Each node's set of (transitive) ancestors' ids, built in topological order. */
function ancestorSets(
  nodes: readonly DagNode[],
  order: string[],
  byId: Map<string, DagNode>,
): Map<string, Set<string>> {
  const needs = new Set<string>();
  for (const node of nodes) if (node.inputs.length > 0 || node.kind === "server") needs.add(node.id);
  const sets = new Map<string, Set<string>>();
  // Only nodes with inputs need their ancestors; compute those by walking back, iteratively.
  for (const id of needs) {
    const seen = new Set<string>();
    const stack = [...byId.get(id)!.after];
    while (stack.length > 0) {
      const next = stack.pop()!;
      if (seen.has(next)) continue;
      seen.add(next);
      stack.push(...byId.get(next)!.after);
    }
    sets.set(id, seen);
  }
  for (const id of order) if (!sets.has(id)) sets.set(id, new Set());
  return sets;
}

/** An edit to a running DAG. */
export interface DagEdit {
  add?: unknown[];
  remove?: string[];
}

/** Node states that may still be removed. */
const REMOVABLE = new Set(["pending", "waiting"]);

/** Checks an edit against the current nodes and their states; returns the new node list. */
export function validateEdit(
  current: readonly DagNode[],
  states: ReadonlyMap<string, string>,
  edit: DagEdit,
): Result<{ nodes: DagNode[]; added: DagNode[]; removed: string[] }, DagError[]> {
  const remove = new Set(edit.remove ?? []);
  const errors: DagError[] = [];
  for (const id of remove) {
    const state = states.get(id);
    if (state === undefined) {
      errors.push(error("unknown-node", "edit-known-nodes", `node ${id} is not in the DAG`, id));
    } else if (!REMOVABLE.has(state)) {
      errors.push(
        error(
          "node-not-removable",
          "edit-untouched",
          `node ${id} is ${state}; only pending or waiting nodes can be removed`,
          id,
        ),
      );
    }
  }
  const parsedAdd: DagNode[] = [];
  for (const raw of edit.add ?? []) {
    const parsed = DagSchema.shape.nodes.element.safeParse(raw);
    if (!parsed.success) {
      const id = (raw as { id?: unknown })?.id;
      const issue = parsed.error.issues[0];
      errors.push(
        error(
          "invalid-dag",
          "schema",
          `${issue.path.join(".")}: ${issue.message}`,
          typeof id === "string" ? id : undefined,
        ),
      );
    } else parsedAdd.push(parsed.data);
  }
  for (const node of parsedAdd) {
    if (states.has(node.id) && !remove.has(node.id)) {
      errors.push(
        error(
          "duplicate-node",
          "edit-untouched",
          `node ${node.id} already exists; running or finished nodes cannot change`,
          node.id,
        ),
      );
    }
    if (node.kind === "agent") {
      errors.push(
        error("agent-unsupported", "agent-nodes", `node ${node.id}: agent nodes need the Brain`, node.id),
      );
    }
  }
  const kept = current.filter((n) => !remove.has(n.id));
  for (const node of kept) {
    for (const dep of node.after) {
      if (remove.has(dep)) {
        errors.push(
          error(
            "removed-dependency",
            "edit-dependencies",
            `node ${node.id} depends on removed node ${dep}`,
            node.id,
          ),
        );
      }
    }
  }
  if (errors.length > 0) return err(errors);
  const nodes = [...kept, ...parsedAdd];
  const graph = checkGraph(nodes);
  if (graph.length > 0) return err(graph);
  return ok({ nodes, added: parsedAdd, removed: [...remove] });
}
