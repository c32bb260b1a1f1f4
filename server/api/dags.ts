/** DAG routes: submit, list, inspect (with metrics), cancel, edit, download artifacts, a node's steps. */
import { Hono } from "hono";
import { type DagError, validateDag } from "../../shared/dag/validate.ts";
import type { ArtifactStore } from "../artifacts/store.ts";
import type { AuthVariables } from "../http/auth.ts";
import { DAG_BODY_LIMIT_BYTES, readJson } from "../http/body.ts";
import { HttpError } from "../http/errors.ts";
import type { OrionService } from "../orion/service.ts";
import { foundDag } from "./dag_lookup.ts";
import { type StepRouteDeps, stepRoutes } from "./steps.ts";
import { approvalAnswerRoutes } from "./approvals.ts";
import type { ApprovalGate } from "../brain/approval.ts";

/** A refused DAG or edit: 400 (or 409 for an edit's conflict), the first error's code, every error in `details`. */
function dagRejected(status: 400 | 409, details: DagError[]): HttpError {
  const message = `Cannot accept DAG: ${details.map((d) => d.message).join("; ")}`;
  return new HttpError(details[0].code, message, { status, details });
}

/** Routes under /api/dags. */
export function dagRoutes(
  deps: {
    orion: OrionService;
    store: ArtifactStore;
    steps?: StepRouteDeps["steps"];
    approvals?: ApprovalGate;
  },
) {
  const routes = new Hono<{ Variables: AuthVariables }>();
  const find = (id: string) => foundDag(deps.orion.view(id), id);

  routes.post("/", async (c) => {
    const valid = validateDag(await readJson(c, DAG_BODY_LIMIT_BYTES), { allowAgents: true });
    if (!valid.ok) throw dagRejected(400, valid.error);
    const agents = valid.value.dag.nodes.filter((node) => node.kind === "agent");
    if (agents.length > 0 && !deps.orion.hasModel) {
      throw new HttpError(
        "no-llm-configured",
        `Cannot run agent node ${agents[0].id}: no model is configured (--llm-base-url, --llm-model)`,
      );
    }
    const dag = deps.orion.submitDag(valid.value.dag);
    return c.json({ id: dag.id, state: dag.state }, 201);
  });
  // A running DAG also says how many of its nodes are in each state (the dashboard's progress bar).
  routes.get("/", (c) => c.json({ dags: deps.orion.dags() }));
  routes.get("/:id", (c) => c.json(find(c.req.param("id"))));
  routes.get("/:id/artifacts", async (c) => {
    const dag = find(c.req.param("id"));
    const stored = await deps.store.list(dag.id);
    return c.json({ artifacts: stored.map(({ artifact, meta }) => ({ name: artifact, ...meta })) });
  });
  routes.post("/:id/cancel", (c) => {
    const dag = deps.orion.cancelDag(c.req.param("id"), `cancelled by ${c.get("key").name}`);
    return c.json({ id: dag.id, state: dag.state });
  });
  routes.patch("/:id", async (c) => {
    find(c.req.param("id"));
    const body = await readJson(c, DAG_BODY_LIMIT_BYTES) as { add?: unknown; remove?: unknown };
    if (
      typeof body !== "object" || body === null || (body.add !== undefined && !Array.isArray(body.add)) ||
      (body.remove !== undefined &&
        !(Array.isArray(body.remove) && body.remove.every((r) => typeof r === "string")))
    ) {
      throw new HttpError("invalid-body", 'Cannot accept edit: body is {"add"?: [nodes], "remove"?: [ids]}');
    }
    const edited = deps.orion.editDag(c.req.param("id"), {
      add: body.add as unknown[] | undefined,
      remove: body.remove as string[] | undefined,
    });
    if (!edited.ok) throw dagRejected(edited.error.conflict ? 409 : 400, edited.error.errors);
    return c.json(edited.value);
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
  if (deps.approvals !== undefined) {
    routes.route("/", approvalAnswerRoutes({ gate: deps.approvals, dag: (id) => deps.orion.view(id) }));
  }
  if (deps.steps !== undefined) {
    routes.route("/", stepRoutes({ dag: (id) => deps.orion.view(id), steps: deps.steps }));
  }
  return routes;
}
