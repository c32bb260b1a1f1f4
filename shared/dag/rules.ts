/**
 * The node rules zod does not express and the mapping of zod issues to DAG errors, shared by the
 * validation of submitted DAGs (`validate.ts`) and of edits (`edit.ts`).
 */
import { type DagError, dagError } from "./graph.ts";
import type { MatchableDevice } from "./matching.ts";
import { DAG_LIMITS, type DagNode } from "./schema.ts";
import { dotted, explainIssue, type SchemaIssue } from "./hints.ts";

/** What validation may know besides the DAG. */
export interface ValidateContext {
  /** Known devices; when given, targets none of them meets become warnings. */
  devices?: readonly MatchableDevice[];
  /** Accept `agent` nodes (refused with `agent-unsupported` until the Brain exists). Default false. */
  allowAgents?: boolean;
}

/** At most this many schema issues are reported (the rest are usually the same mistake repeated). */
export const MAX_REPORTED_ISSUES = 20;

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

/**
 * Turns zod issues into DagErrors that name the node (by id when it has one), the rule and the field's
 * path; an unknown field or kind gets a message that says what to write instead (`hints.ts`). Issue paths
 * start at `input`; nodes are found under `input[nodesKey]` (`nodes` for a DAG, `add` for an edit).
 */
export function schemaErrors(
  input: unknown,
  issues: readonly SchemaIssue[],
  nodesKey = "nodes",
): DagError[] {
  // Explaining is cheap, but a DAG of 10,000 broken nodes need not be explained past what is reported.
  const explained = issues.slice(0, MAX_REPORTED_ISSUES).flatMap((issue) =>
    explainIssue(input, issue, nodesKey)
  );
  return explained.slice(0, MAX_REPORTED_ISSUES).map(({ path, message: explanation, suggestion, issue }) => {
    const nodeIndex = path[0] === nodesKey && typeof path[1] === "number" ? path[1] : undefined;
    const list = (input as Record<string, unknown> | null)?.[nodesKey];
    const raw = nodeIndex === undefined || !Array.isArray(list) ? undefined : list[nodeIndex];
    const id = (raw as { id?: unknown } | null | undefined)?.id;
    const where = dotted(path);
    const message = where ? explanation : explanation.replace(/^: /, "");
    const node = typeof id === "string" ? id : undefined;
    const located = (error: DagError): DagError => ({
      ...error,
      ...(where ? { path: where } : {}),
      ...(suggestion === undefined ? {} : { suggestion }),
    });
    if (issue?.params?.pathEscape) return located(dagError("path-escape", "relative-paths", message, node));
    if (issue?.params?.artifactName) {
      const field = nodeIndex === undefined ? where : path.slice(2).map(String).join(".");
      const named = node === undefined ? `Field ${field}` : `Node ${node}, field ${field}`;
      return located(dagError("invalid-dag", "artifact-names", `${named}: ${issue.message}`, node));
    }
    if (issue?.code === "too_big") return located(dagError("limit-exceeded", "limits", message, node));
    return located(dagError("invalid-dag", "schema", message, node));
  });
}
