/**
 * Validation of submitted DAGs: the shape and limits (zod), then the graph rules. Each error names the
 * node and the rule. A target no known device satisfies is not an error: it comes back as a warning,
 * and the node waits visibly until such a device arrives.
 */
import { err, ok, type Result } from "../result.ts";
import { checkGraph, type DagError, dagError, topologicalOrder } from "./graph.ts";
import { type MatchableDevice, matchesTarget } from "./matching.ts";
import { type Dag, DAG_LIMITS, type DagNode, DagSchema, isDeviceNode } from "./schema.ts";

export { checkGraph, type DagError, topologicalOrder } from "./graph.ts";
export { type DagEdit, type EditContext, validateEdit, type ValidEdit } from "./edit.ts";

/** Something worth telling the operator that does not refuse the DAG. */
export interface DagWarning {
  code: "no-matching-device";
  rule: "satisfiable-targets";
  node: string;
  message: string;
}

/** A valid DAG, its nodes in a topological order, and warnings about it. */
export interface ValidDag {
  dag: Dag;
  order: string[];
  warnings: DagWarning[];
}

/** What validation may know besides the DAG. */
export interface ValidateContext {
  /** Known devices; when given, targets none of them meets become warnings. */
  devices?: readonly MatchableDevice[];
  /** Accept `agent` nodes (refused with `agent-unsupported` until the Brain exists). Default false. */
  allowAgents?: boolean;
}

/** At most this many schema issues are reported (the rest are usually the same mistake repeated). */
export const MAX_REPORTED_ISSUES = 20;

/** Checks shape and limits, then the graph rules; returns every error found, or the valid DAG. */
export function validateDag(input: unknown, ctx: ValidateContext = {}): Result<ValidDag, DagError[]> {
  const parsed = DagSchema.safeParse(input);
  if (!parsed.success) return err(schemaErrors(input, parsed.error.issues));
  const dag = parsed.data;
  const errors = [...nodeRules(dag.nodes, ctx), ...checkGraph(dag.nodes)];
  if (errors.length > 0) return err(errors);
  return ok({ dag, order: topologicalOrder(dag.nodes).order, warnings: targetWarnings(dag.nodes, ctx) });
}

/** Rules on nodes that zod does not express: agent support and the DAG-wide step budget. */
export function nodeRules(nodes: readonly DagNode[], ctx: ValidateContext = {}): DagError[] {
  const errors: DagError[] = [];
  let steps = 0;
  for (const node of nodes) {
    if (node.kind === "script") steps += node.steps.length;
    if (node.kind === "agent" && !ctx.allowAgents) {
      const message = `Cannot accept node ${node.id}: agent nodes need the Brain, which is not available yet`;
      errors.push(dagError("agent-unsupported", "agent-nodes", message, node.id));
    }
  }
  if (steps > DAG_LIMITS.maxTotalSteps) {
    const message = `DAG has ${steps} steps in all; the limit is ${DAG_LIMITS.maxTotalSteps}`;
    errors.push(dagError("limit-exceeded", "limits", message));
  }
  return errors;
}

/** Warnings for device nodes whose target no known device meets (only when devices are given). */
export function targetWarnings(nodes: readonly DagNode[], ctx: ValidateContext): DagWarning[] {
  const devices = ctx.devices;
  if (devices === undefined) return [];
  const warnings: DagWarning[] = [];
  for (const node of nodes) {
    if (!isDeviceNode(node) || devices.some((device) => matchesTarget(node.target, device))) continue;
    warnings.push({
      code: "no-matching-device",
      rule: "satisfiable-targets",
      node: node.id,
      message: `Node ${node.id} will wait: no known device matches ${JSON.stringify(node.target)}`,
    });
  }
  return warnings;
}

interface Issue {
  code: string;
  path: PropertyKey[];
  message: string;
  params?: Record<string, unknown>;
}

/**
 * Turns zod issues into DagErrors that name the node (by id when it has one) and the rule. Issue paths
 * start at `input`; nodes are found under `input[nodesKey]` (`nodes` for a DAG, `add` for an edit).
 */
export function schemaErrors(input: unknown, issues: readonly Issue[], nodesKey = "nodes"): DagError[] {
  return issues.slice(0, MAX_REPORTED_ISSUES).map((issue) => {
    const path = issue.path;
    const nodeIndex = path[0] === nodesKey && typeof path[1] === "number" ? path[1] : undefined;
    const list = (input as Record<string, unknown> | null)?.[nodesKey];
    const raw = nodeIndex === undefined || !Array.isArray(list) ? undefined : list[nodeIndex];
    const id = (raw as { id?: unknown } | null | undefined)?.id;
    const where = path.map(String).join(".");
    const message = `${where ? `${where}: ` : ""}${issue.message}`;
    const node = typeof id === "string" ? id : undefined;
    if (issue.params?.pathEscape) return dagError("path-escape", "relative-paths", message, node);
    if (issue.params?.artifactName) {
      const field = nodeIndex === undefined ? where : path.slice(2).map(String).join(".");
      const named = node === undefined ? `Field ${field}` : `Node ${node}, field ${field}`;
      return dagError("invalid-dag", "artifact-names", `${named}: ${issue.message}`, node);
    }
    if (issue.code === "too_big") return dagError("limit-exceeded", "limits", message, node);
    return dagError("invalid-dag", "schema", message, node);
  });
}
