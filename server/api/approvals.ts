/**
 * Approval routes: the actions held for an operator (`GET /api/approvals`), and the answers, under
 * /api/dags: `POST /:id/nodes/:nodeId/approve` and `POST /:id/nodes/:nodeId/reject {"reason"}` (the step then
 * fails with `rejected-by-operator`). A node that holds nothing answers 409 `no-pending-approval`.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { ApprovalGate } from "../brain/approval.ts";
import type { AuthVariables } from "../http/auth.ts";
import { readBody } from "../http/body.ts";
import { HttpError } from "../http/errors.ts";
import { foundDagNode } from "./dag_lookup.ts";
import type { DagView } from "../orion/read_model.ts";

const RejectSchema = z.object({ reason: z.string().min(1).max(2000).default("rejected") });

/** What the routes need. */
export interface ApprovalRouteDeps {
  gate: ApprovalGate;
  dag(id: string): DagView | undefined;
}

/** The answers, mounted under /api/dags. */
export function approvalAnswerRoutes(deps: ApprovalRouteDeps) {
  const routes = new Hono<{ Variables: AuthVariables }>();
  const held = (id: string, nodeId: string) => {
    const dag = foundDagNode(deps.dag(id), id, nodeId);
    const pending = deps.gate.held(dag.id, nodeId);
    if (pending === undefined) {
      throw new HttpError("no-pending-approval", `Cannot answer: node ${nodeId} holds no action`);
    }
    return pending;
  };
  routes.post("/:id/nodes/:nodeId/approve", (c) => {
    const pending = held(c.req.param("id"), c.req.param("nodeId"));
    deps.gate.approve(pending.dagId, pending.nodeId, c.get("key").name);
    return c.json({ ...pending, state: "approved" });
  });
  routes.post("/:id/nodes/:nodeId/reject", async (c) => {
    const pending = held(c.req.param("id"), c.req.param("nodeId"));
    const body = await readBody(c, RejectSchema);
    deps.gate.reject(pending.dagId, pending.nodeId, c.get("key").name, body.reason);
    return c.json({ ...pending, state: "rejected", reason: body.reason });
  });
  return routes;
}

/** `GET /api/approvals`: every action held now. */
export function approvalListRoutes(gate: ApprovalGate) {
  const routes = new Hono<{ Variables: AuthVariables }>();
  routes.get("/", (c) => c.json({ approvals: gate.pending() }));
  return routes;
}
