/**
 * Step routes, under /api/dags: the steps a node took (every attempt) and the frame each decision used.
 * Archived DAGs keep their steps; a frame retention deleted is answered 404 `unknown-frame`.
 */
import { Hono } from "hono";
import type { StepLog } from "../brain/step_log.ts";
import type { AuthVariables } from "../http/auth.ts";
import { HttpError } from "../http/errors.ts";
import { foundDagNode } from "./dag_lookup.ts";
import type { DagView } from "../orion/read_model.ts";

/** What the step routes need. */
export interface StepRouteDeps {
  /** A DAG's view, live or archived; undefined when unknown. */
  dag(id: string): DagView | undefined;
  steps: Pick<StepLog, "list" | "frame">;
}

const STEP_NUMBER = /^\d{1,9}$/;

/** Routes `/:id/nodes/:nodeId/steps` and `/:id/nodes/:nodeId/steps/:attempt/:index/frame`. */
export function stepRoutes(deps: StepRouteDeps) {
  const routes = new Hono<{ Variables: AuthVariables }>();
  const node = (id: string, nodeId: string) => {
    return { dagId: foundDagNode(deps.dag(id), id, nodeId).id, nodeId };
  };

  routes.get("/:id/nodes/:nodeId/steps", (c) => {
    const { dagId, nodeId } = node(c.req.param("id"), c.req.param("nodeId"));
    return c.json({ steps: deps.steps.list(dagId, nodeId) });
  });
  routes.get("/:id/nodes/:nodeId/steps/:attempt/:index/frame", async (c) => {
    const { dagId, nodeId } = node(c.req.param("id"), c.req.param("nodeId"));
    const { attempt, index } = c.req.param();
    const missing = () =>
      new HttpError(
        "unknown-frame",
        `Cannot find step frame: node ${nodeId} has no frame for attempt ${attempt}, step ${index}`,
      );
    if (!STEP_NUMBER.test(attempt) || !STEP_NUMBER.test(index)) throw missing();
    const image = await deps.steps.frame(dagId, nodeId, Number(attempt), Number(index));
    if (image === null) throw missing();
    return new Response(image, {
      headers: {
        "content-type": "image/jpeg",
        "content-length": String(image.byteLength),
      },
    });
  });
  return routes;
}
