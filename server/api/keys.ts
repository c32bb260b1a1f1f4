/**
 * Key routes for operators: list, create (the secret is returned once; a device key may be bound to one
 * device name), revoke.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { KeyStore } from "../auth/key_store.ts";
import type { AuthVariables } from "../http/auth.ts";
import { readBody } from "../http/body.ts";
import { HttpError } from "../http/errors.ts";

const CreateKeySchema = z.object({
  scope: z.enum(["device", "operator", "enroll"]),
  name: z.string().regex(/^[A-Za-z0-9._ -]{1,100}$/, "name uses letters, digits, '.', '_', '-' or spaces"),
  /** Binds a device key to this one device name (a client's --name). */
  device: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, "device uses letters, digits, '.', '_' or '-'")
    .optional(),
}).refine((body) => body.device === undefined || body.scope === "device", {
  path: ["device"],
  message: "only a device key can be bound to a device",
});

/** Routes under /api/keys. */
export function keyRoutes(keys: KeyStore) {
  const routes = new Hono<{ Variables: AuthVariables }>();
  routes.get("/", (c) => c.json({ keys: keys.list() }));
  routes.post("/", async (c) => {
    const body = await readBody(c, CreateKeySchema);
    const { record, secret } = keys.create(body.scope, body.name, { device: body.device });
    return c.json({ ...record, secret }, 201);
  });
  routes.delete("/:id", (c) => {
    const id = c.req.param("id");
    const record = keys.list().find((k) => k.id === id);
    if (record === undefined) throw new HttpError("unknown-api-key", `Cannot find key ${id}`);
    return c.json(record.revokedAt === null ? keys.revoke(id) : record);
  });
  return routes;
}
