/**
 * `POST /api/tasks {"request", "dryRun"?}`: the planner turns a request in plain words into a DAG (placed by
 * the devices' capabilities) and submits it: 201 `{"id", "state", "dag"}`; with `dryRun`, 200 `{"dag"}`
 * without submitting. A plan the model cannot make valid is 422 `plan-refused` with the DAG errors in
 * `details`; without a model, 503 `no-llm-configured`.
 */
import { Hono } from "hono";
import { z } from "zod";
import { plan, PlanRefused } from "../brain/planner.ts";
import type { ChatModel } from "../brain/llm.ts";
import type { DeviceView } from "../gateway/types.ts";
import type { AuthVariables } from "../http/auth.ts";
import { readBody } from "../http/body.ts";
import { HttpError } from "../http/errors.ts";
import type { OrionService } from "../orion/service.ts";

const TaskSchema = z.object({
  request: z.string().min(1).max(10_000),
  dryRun: z.boolean().default(false),
});

/** Routes under /api/tasks. */
export function taskRoutes(deps: {
  model: ChatModel | null;
  devices: () => DeviceView[];
  orion: Pick<OrionService, "submitDag">;
}) {
  const routes = new Hono<{ Variables: AuthVariables }>();
  routes.post("/", async (c) => {
    const body = await readBody(c, TaskSchema);
    if (deps.model === null) throw new HttpError("no-llm-configured");
    let planned;
    try {
      planned = await plan(deps.model, body.request, deps.devices(), { signal: c.req.raw.signal });
    } catch (error) {
      if (error instanceof PlanRefused) {
        throw new HttpError("plan-refused", error.message, {
          details: { errors: error.errors, plan: error.plan },
        });
      }
      throw error;
    }
    const dag = planned.valid.dag;
    const meta = { rounds: planned.rounds, tokens: planned.tokens, warnings: planned.valid.warnings };
    if (body.dryRun) return c.json({ dag, dryRun: true, ...meta });
    const view = deps.orion.submitDag(dag);
    return c.json({ id: view.id, state: view.state, dag, ...meta }, 201);
  });
  return routes;
}
