/** Submitting DAGs through the REST API and waiting for them to end, for end-to-end tests. */
import type { DagView } from "../../shared/api_views.ts";
import { until } from "./gateway_harness.ts";
import type { TestServer } from "./server.ts";

export type { DagView };

/** A DAG of `count` independent script nodes with the same steps and target. */
export function independentNodes(count: number, target: unknown, steps: unknown[]) {
  return {
    name: `${count} independent nodes`,
    nodes: Array.from({ length: count }, (_, i) => ({ id: `n${i}`, kind: "script", target, steps })),
  };
}

/** Submits a DAG; returns its id. */
export async function submitDag(server: TestServer, dag: unknown): Promise<string> {
  const response = await server.api("/api/dags", { method: "POST", body: JSON.stringify(dag) });
  if (response.status !== 201) throw new Error(`DAG refused (${response.status}): ${await response.text()}`);
  return (await response.json()).id;
}

/** Waits until the DAG leaves `running` (or `timeoutMs` passes) and returns its last view. */
export async function waitForDag(server: TestServer, id: string, timeoutMs: number): Promise<DagView> {
  let view: DagView | null = null;
  try {
    await until(() => view !== null && view.state !== "running", `DAG ${id} to end`, timeoutMs, async () => {
      view = await (await server.api(`/api/dags/${id}`)).json();
    });
  } catch (error) {
    const stuck = view!.nodes.filter((n) => n.state !== "succeeded").map((n) => `${n.id}=${n.state}`);
    throw new Error(`${(error as Error).message}; not succeeded: ${stuck.slice(0, 10).join(", ")}`);
  }
  return view!;
}

/** Per device, the most attempts that were in flight at once ([assignedAtMs, endedAtMs) intervals). */
export function peakConcurrency(view: DagView): Map<string, number> {
  const edges = new Map<string, Array<[number, number]>>();
  for (const node of view.nodes) {
    for (const attempt of node.attempts) {
      if (attempt.deviceId === null) continue;
      const list = edges.get(attempt.deviceId) ?? [];
      list.push([attempt.assignedAtMs, +1], [attempt.endedAtMs ?? Number.POSITIVE_INFINITY, -1]);
      edges.set(attempt.deviceId, list);
    }
  }
  const peaks = new Map<string, number>();
  for (const [deviceId, list] of edges) {
    // An attempt ending at the same ms another is assigned frees its slot first.
    list.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let running = 0;
    let peak = 0;
    for (const [, delta] of list) peak = Math.max(peak, running += delta);
    peaks.set(deviceId, peak);
  }
  return peaks;
}
