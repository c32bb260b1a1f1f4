/**
 * Validation of submitted DAGs: the shape and limits (zod), then the graph rules. Each error names the
 * node and the rule. A target no known device satisfies is not an error: it comes back as a warning,
 * and the node waits visibly until such a device arrives.
 */
import { err, ok, type Result } from "../result.ts";
import { checkGraph, type DagError, topologicalOrder } from "./graph.ts";
import { matchesTarget } from "./matching.ts";
import { nodeRules, schemaErrors, type ValidateContext } from "./rules.ts";
import { type Dag, type DagNode, DagSchema, effectiveTarget, isDeviceNode } from "./schema.ts";

export { checkGraph, type DagError, topologicalOrder } from "./graph.ts";
export { type DagEdit, type EditContext, validateEdit, type ValidEdit } from "./edit.ts";
export { MAX_REPORTED_ISSUES, nodeRules, schemaErrors, type ValidateContext } from "./rules.ts";

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

/** Checks shape and limits, then the graph rules; returns every error found, or the valid DAG. */
export function validateDag(input: unknown, ctx: ValidateContext = {}): Result<ValidDag, DagError[]> {
  const parsed = DagSchema.safeParse(input);
  if (!parsed.success) return err(schemaErrors(input, parsed.error.issues));
  // `$schema` only points editors at the JSON Schema; the DAG kept and run is the same without it.
  const { $schema: _schema, ...dag } = parsed.data;
  const errors = [...nodeRules(dag.nodes, ctx), ...checkGraph(dag.nodes)];
  if (errors.length > 0) return err(errors);
  return ok({ dag, order: topologicalOrder(dag.nodes).order, warnings: targetWarnings(dag.nodes, ctx) });
}

/** Warnings for device nodes whose target no known device meets (only when devices are given). */
export function targetWarnings(nodes: readonly DagNode[], ctx: ValidateContext): DagWarning[] {
  const devices = ctx.devices;
  if (devices === undefined) return [];
  const warnings: DagWarning[] = [];
  for (const node of nodes) {
    if (!isDeviceNode(node) || devices.some((device) => matchesTarget(effectiveTarget(node), device))) {
      continue;
    }
    warnings.push({
      code: "no-matching-device",
      rule: "satisfiable-targets",
      node: node.id,
      message: `Node ${node.id} will wait: no known device matches ${JSON.stringify(node.target)}`,
    });
  }
  return warnings;
}
