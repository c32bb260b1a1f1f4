/** `GET /api/schema/dag`: the DAG body's JSON Schema (draft-07), generated from the zod schema. */
import { Hono } from "hono";
import { dagJsonSchema } from "../../shared/dag/json_schema.ts";
import type { AuthVariables } from "../http/auth.ts";

/** Routes under /api/schema. */
export function schemaRoutes() {
  const routes = new Hono<{ Variables: AuthVariables }>();
  const dag = JSON.stringify(dagJsonSchema(), null, 2);
  routes.get("/dag", (c) => c.body(dag, 200, { "content-type": "application/schema+json" }));
  return routes;
}
