/**
 * The graph rules of a DAG: unique ids, known dependencies, no self-dependency, acyclic, one producer per
 * artifact, and every needed artifact produced upstream. Every walk is iterative, and the upstream check
 * uses bitsets over producing nodes, so 10,000-node chains and wide DAGs stay fast and stack-safe.
 */
import type { ErrorCode } from "../protocol/errors.ts";
import { type DagNode, neededArtifacts } from "./schema.ts";

/**
 * One validation failure: a kebab-case `code`, the `rule` broken, the node at fault when there is one; a
 * schema failure also has the field's dotted `path` (`nodes.1.dependsOn`) and, for a common mistake or a
 * near spelling, the field or value to use instead (`suggestion`).
 */
export interface DagError {
  code: ErrorCode;
  rule: string;
  node?: string;
  message: string;
  path?: string;
  suggestion?: string;
}

/** Builds a DagError, leaving `node` out when there is none. */
export function dagError(code: ErrorCode, rule: string, message: string, node?: string): DagError {
  return node === undefined ? { code, rule, message } : { code, rule, node, message };
}

/** The graph rules over a list of nodes; an empty list means the graph is sound. */
export function checkGraph(nodes: readonly DagNode[]): DagError[] {
  const errors: DagError[] = [];
  const byId = new Map<string, DagNode>();
  for (const node of nodes) {
    if (byId.has(node.id)) {
      errors.push(dagError("duplicate-node", "unique-ids", `Node id ${node.id} is used twice`, node.id));
    }
    byId.set(node.id, node);
  }
  for (const node of nodes) {
    for (const dep of node.after) {
      if (dep === node.id) {
        errors.push(
          dagError("self-dependency", "no-self-dependency", `Node ${node.id} depends on itself`, node.id),
        );
      } else if (!byId.has(dep)) {
        const message = `Node ${node.id} depends on unknown node ${dep}`;
        errors.push(dagError("unknown-dependency", "known-dependencies", message, node.id));
      }
    }
  }
  if (errors.length > 0) return errors;
  const { order, cycle } = topologicalOrder(nodes);
  if (cycle.length > 0) {
    return [dagError("cycle", "acyclic", `Nodes form a cycle: ${cycle.join(" -> ")}`, cycle[0])];
  }
  const producer = new Map<string, string>();
  for (const node of nodes) {
    for (const output of node.outputs) {
      const other = producer.get(output.artifact);
      if (other !== undefined) {
        const message = `Artifact ${output.artifact} is produced by both ${other} and ${node.id}`;
        errors.push(dagError("duplicate-artifact", "one-producer", message, node.id));
      } else producer.set(output.artifact, node.id);
    }
  }
  const isUpstream = upstreamProducers(nodes, order, byId);
  for (const node of nodes) {
    for (const artifact of neededArtifacts(node)) {
      const from = producer.get(artifact);
      if (from === undefined) {
        const message = `Node ${node.id} takes artifact ${artifact}, which no node produces`;
        errors.push(dagError("unknown-artifact", "inputs-produced-upstream", message, node.id));
      } else if (!isUpstream(node.id, from)) {
        const message =
          `Node ${node.id} takes artifact ${artifact} from ${from}, which is not upstream of it`;
        errors.push(dagError("artifact-not-upstream", "inputs-produced-upstream", message, node.id));
      }
    }
  }
  return errors;
}

/**
 * Kahn's algorithm over `after` edges (every dependency must be a known id). When nodes remain, `cycle`
 * names one cycle among them, closed by its first id (`a -> b -> a`); otherwise it is empty.
 */
export function topologicalOrder(nodes: readonly DagNode[]): { order: string[]; cycle: string[] } {
  const remaining = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const node of nodes) {
    remaining.set(node.id, node.after.length);
    for (const dep of node.after) {
      const list = dependents.get(dep);
      if (list === undefined) dependents.set(dep, [node.id]);
      else list.push(node.id);
    }
  }
  const order = nodes.filter((n) => n.after.length === 0).map((n) => n.id);
  for (let i = 0; i < order.length; i++) {
    for (const next of dependents.get(order[i]) ?? []) {
      const left = remaining.get(next)! - 1;
      remaining.set(next, left);
      if (left === 0) order.push(next);
    }
  }
  if (order.length === nodes.length) return { order, cycle: [] };
  return { order, cycle: findCycle(nodes, remaining) };
}

/** Walks dependencies among the stuck nodes (each has one) until an id repeats: that loop is a cycle. */
function findCycle(nodes: readonly DagNode[], remaining: Map<string, number>): string[] {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const stuck = (id: string) => remaining.get(id)! > 0;
  let current = nodes.find((n) => stuck(n.id))!.id;
  const seenAt = new Map<string, number>();
  const path: string[] = [];
  while (!seenAt.has(current)) {
    seenAt.set(current, path.length);
    path.push(current);
    current = byId.get(current)!.after.find(stuck)!;
  }
  const cycle = path.slice(seenAt.get(current)!).reverse();
  return [...cycle, cycle[0]];
}

/**
 * For an acyclic graph in topological `order`: a test of whether `producer` is a transitive dependency
 * of `node`. Each node carries a bitset of the producing nodes above it; a bitset is dropped once its
 * last dependent has read it, so a chain holds only a few at a time.
 */
function upstreamProducers(
  nodes: readonly DagNode[],
  order: readonly string[],
  byId: ReadonlyMap<string, DagNode>,
): (node: string, producer: string) => boolean {
  const bit = new Map<string, number>();
  for (const node of nodes) if (node.outputs.length > 0) bit.set(node.id, bit.size);
  const words = Math.ceil(bit.size / 32);
  const readers = new Map<string, number>();
  for (const node of nodes) for (const dep of node.after) readers.set(dep, (readers.get(dep) ?? 0) + 1);
  const live = new Map<string, Uint32Array>();
  const needed = new Map<string, Uint32Array>();
  for (const id of order) {
    const node = byId.get(id)!;
    const set = new Uint32Array(words);
    for (const dep of node.after) {
      const above = live.get(dep)!;
      for (let w = 0; w < words; w++) set[w] |= above[w];
      const b = bit.get(dep);
      if (b !== undefined) set[b >>> 5] |= 1 << (b & 31);
      const left = readers.get(dep)! - 1;
      readers.set(dep, left);
      if (left === 0) live.delete(dep);
    }
    if ((readers.get(id) ?? 0) > 0) live.set(id, set);
    if (neededArtifacts(node).length > 0) needed.set(id, set);
  }
  return (node, producer) => {
    const set = needed.get(node);
    const b = bit.get(producer);
    return set !== undefined && b !== undefined && (set[b >>> 5] & (1 << (b & 31))) !== 0;
  };
}
