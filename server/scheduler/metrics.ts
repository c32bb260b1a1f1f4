/** Per-DAG metrics derived from the scheduler state: timing, critical path, parallelism, queue waits. */
import type { DagMetrics } from "../../shared/api_views.ts";
import type { DagState } from "./types.ts";

export type { DagMetrics };

/** Computes a DAG's metrics at `nowMs`. */
export function dagMetrics(dag: DagState, nowMs: number): DagMetrics {
  const end = dag.endedAtMs ?? nowMs;
  const totalMs = Math.max(0, end - dag.createdAtMs);
  const runMs = (id: string) => {
    const node = dag.nodes[id];
    if (node.startedAtMs === null) return 0;
    return Math.max(0, (node.endedAtMs ?? nowMs) - node.startedAtMs);
  };
  const best = new Map<string, { ms: number; previous: string | null }>();
  let sumMs = 0;
  const queueWaitMs: Record<string, number | null> = {};
  const attempts: Record<string, number> = {};
  for (const id of topological(dag)) {
    const node = dag.nodes[id];
    let previous: string | null = null;
    let before = 0;
    for (const dep of node.spec.after) {
      const candidate = best.get(dep);
      if (candidate && candidate.ms > before) {
        before = candidate.ms;
        previous = dep;
      }
    }
    const own = runMs(id);
    sumMs += own;
    best.set(id, { ms: before + own, previous });
    queueWaitMs[id] = node.readyAtMs !== null && node.startedAtMs !== null
      ? node.startedAtMs - node.readyAtMs
      : null;
    attempts[id] = node.attempts.length;
  }
  let last: string | null = null;
  for (const [id, value] of best) if (last === null || value.ms > best.get(last)!.ms) last = id;
  const path: string[] = [];
  for (let id = last; id !== null; id = best.get(id)!.previous) path.unshift(id);
  return {
    totalMs,
    criticalPath: { nodes: path, ms: last === null ? 0 : best.get(last)!.ms },
    parallelism: totalMs > 0 ? Math.round((sumMs / totalMs) * 1000) / 1000 : 0,
    queueWaitMs,
    attempts,
  };
}

function topological(dag: DagState): string[] {
  const remaining = new Map<string, number>();
  for (const id of dag.order) remaining.set(id, dag.nodes[id].spec.after.filter((d) => dag.nodes[d]).length);
  const queue = dag.order.filter((id) => remaining.get(id) === 0);
  for (let i = 0; i < queue.length; i++) {
    for (const next of dag.nodes[queue[i]].dependents) {
      const left = remaining.get(next)! - 1;
      remaining.set(next, left);
      if (left === 0) queue.push(next);
    }
  }
  return queue;
}
