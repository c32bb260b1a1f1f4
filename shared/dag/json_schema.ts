/**
 * The DAG body's JSON Schema, generated from the zod schema (`DagSchema`) so the two cannot drift: served at
 * `GET /api/schema/dag` and written to `examples/dag.schema.json` (`deno task schema`). Every field carries
 * its description, for editors. What JSON Schema cannot say (the graph rules: cycles, unknown or duplicate
 * ids, artifacts produced upstream; the total step budget) only the server checks.
 */
import { z } from "zod";
import { DagSchema } from "./schema.ts";

/** The `$id` of the published schema: where the server serves it. */
export const DAG_SCHEMA_PATH = "/api/schema/dag";

let cached: Record<string, unknown> | undefined;

/**
 * The DAG JSON Schema (draft-07, the draft editors support best), describing what a client may send:
 * fields with defaults are optional. `waitFor` steps get a `oneOf` over their conditions (exactly one).
 */
export function dagJsonSchema(): Record<string, unknown> {
  cached ??= build();
  return structuredClone(cached);
}

function build(): Record<string, unknown> {
  const schema = z.toJSONSchema(DagSchema, {
    target: "draft-7",
    io: "input",
    unrepresentable: "throw",
    override: ({ jsonSchema }) => {
      const type = (jsonSchema.properties?.type as { const?: unknown } | undefined)?.const;
      if (type === "waitFor") {
        // zod's refine (exactly one condition) has no JSON form of its own; this is it.
        jsonSchema.oneOf = ["text", "window", "file", "screenChange"].map((key) => ({ required: [key] }));
      }
    },
  }) as Record<string, unknown>;
  return { ...schema, title: "ALIEN3 Orion DAG" };
}
