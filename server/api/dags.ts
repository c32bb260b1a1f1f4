/** DAG routes: submit, list, inspect (with metrics), cancel, edit, download artifacts. */
import { Hono } from "hono";
import { type DagError, validateDag, validateEdit } from "../../shared/dag/validate.ts";
import type { ArtifactStore } from "../artifacts/store.ts";
import type { AuthVariables } from "../http/auth.ts";
import { DAG_BODY_LIMIT_BYTES, readJson } from "../http/body.ts";
import { HttpError } from "../http/errors.ts";
import type { OrionService } from "../orion/service.ts";
import { dagMetrics } from "../scheduler/metrics.ts";
import type { DagState } from "../scheduler/types.ts";

/** A refused DAG or edit: 400 (or 409 for an edit's conflict), the first error's code, every error in `details`. */
function dagRejected(status: 400 | 409, details: DagError[]): HttpError {
  const message = `Cannot accept DAG: ${details.map((d) => d.message).join("; ")}`;
  return new HttpError(details[0].code, message, { status, details });
}

/** A DAG as `GET /api/dags/:id` shows it. */
export function dagView(dag: DagState, nowMs: number) {
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
        after: node.spec.after,
        state: node.status,
        device: node.device ?? node.attempts.at(-1)?.deviceId ?? null,
        attempts: node.attempts,
        startedAt: node.startedAtMs,
        endedAt: node.endedAtMs,
        error: node.error,
        reason: node.reason,
      };
    }),
    metrics: dagMetrics(dag, nowMs),
  };
}

/** Routes under /api/dags. */
export function dagRoutes(deps: { orion: OrionService; store: ArtifactStore; now: () => number }) {
  const routes = new Hono<{ Variables: AuthVariables }>();
  const find = (id: string) => {
    const dag = deps.orion.dag(id);
    if (dag === undefined) throw new HttpError("unknown-dag", `Cannot find DAG ${id}`);
    return dag;
  };

  routes.post("/", async (c) => {
    const valid = validateDag(await readJson(c, DAG_BODY_LIMIT_BYTES));
    if (!valid.ok) throw dagRejected(400, valid.error);
    const id = crypto.randomUUID();
    deps.orion.submit({
      type: "dag-submitted",
      dagId: id,
      name: valid.value.dag.name,
      nodes: valid.value.dag.nodes,
    });
    return c.json({ id, state: find(id).status }, 201);
  });
  routes.get("/", (c) => c.json({ dags: deps.orion.dags() }));
  routes.get("/:id", (c) => c.json(dagView(find(c.req.param("id")), deps.now())));
  routes.post("/:id/cancel", (c) => {
    const dag = find(c.req.param("id"));
    if (dag.status !== "running") {
      throw new HttpError("dag-finished", `Cannot cancel: DAG ${dag.id} is ${dag.status}`);
    }
    deps.orion.submit({ type: "cancel-dag", dagId: dag.id, reason: `cancelled by ${c.get("key").name}` });
    return c.json({ id: dag.id, state: dag.status });
  });
  routes.patch("/:id", async (c) => {
    const dag = find(c.req.param("id"));
    if (dag.status !== "running") {
      throw new HttpError("dag-finished", `Cannot edit: DAG ${dag.id} is ${dag.status}`);
    }
    const body = await readJson(c, DAG_BODY_LIMIT_BYTES) as { add?: unknown; remove?: unknown };
    if (
      typeof body !== "object" || body === null || (body.add !== undefined && !Array.isArray(body.add)) ||
      (body.remove !== undefined &&
        !(Array.isArray(body.remove) && body.remove.every((r) => typeof r === "string")))
    ) {
      throw new HttpError("invalid-body", 'Cannot accept edit: body is {"add"?: [nodes], "remove"?: [ids]}');
    }
    const states = new Map(dag.order.map((id) => [id, dag.nodes[id].status as string]));
    const current = dag.order.map((id) => dag.nodes[id].spec);
    const edit = validateEdit(current, states, {
      add: body.add as unknown[] | undefined,
      remove: body.remove as string[] | undefined,
    });
    if (!edit.ok) {
      const conflict = edit.error.some((e) => e.rule === "edit-untouched" || e.code === "cycle");
      throw dagRejected(conflict ? 409 : 400, edit.error);
    }
    deps.orion.submit({
      type: "edit-dag",
      dagId: dag.id,
      added: edit.value.added,
      removed: edit.value.removed,
    });
    return c.json(dagView(dag, deps.now()));
  });
  routes.get("/:id/artifacts/:name", async (c) => {
    const dag = find(c.req.param("id"));
    const opened = await deps.store.open(dag.id, c.req.param("name"));
    if (opened === null) {
      throw new HttpError("unknown-artifact", `Cannot find artifact ${c.req.param("name")}`);
    }
    return new Response(opened.stream, {
      headers: {
        "content-type": "application/octet-stream",
        "content-length": String(opened.meta.size),
        "x-sha256": opened.meta.sha256,
      },
    });
  });
  return routes;
}
