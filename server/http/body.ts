/** Reads and validates a JSON request body with zod: 400 `invalid-body` naming the field at fault. */
import type { Context } from "hono";
import type { z } from "zod";
import { HttpError } from "./errors.ts";

/** Parses the body against `schema`. */
export async function readBody<S extends z.ZodType>(
  c: Context,
  schema: S,
  maxBytes = 1024 * 1024,
): Promise<z.output<S>> {
  const text = await c.req.text();
  if (text.length > maxBytes) {
    throw new HttpError(413, "body-too-large", `Cannot read body: over ${maxBytes} bytes`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, "invalid-body", `Cannot parse body: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length ? `${issue.path.join(".")}: ` : "";
    throw new HttpError(400, "invalid-body", `Cannot accept body: ${where}${issue.message}`);
  }
  return parsed.data;
}
