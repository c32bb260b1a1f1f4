/**
 * `deno task schema [--check]`: writes the DAG JSON Schema to `examples/dag.schema.json` and the field
 * tables into README.md ("Writing a DAG"), both generated from the zod schema. `--check` writes nothing and
 * exits 1 when either file is stale.
 */
import { dagJsonSchema } from "../shared/dag/json_schema.ts";
import { dagFieldTables, type JsonSchema, withFieldTables } from "./dag_docs.ts";

const root = new URL("../", import.meta.url);
/** Where the examples' schema lives. */
export const SCHEMA_FILE = new URL("examples/dag.schema.json", root);
/** The README with the field tables. */
export const README_FILE = new URL("README.md", root);

/** What both files should hold now. */
export function generated(readme: string): { schema: string; readme: string } {
  const schema = dagJsonSchema();
  return {
    schema: `${JSON.stringify(schema, null, 2)}\n`,
    readme: withFieldTables(readme, dagFieldTables(schema as JsonSchema)),
  };
}

async function main(args: string[]): Promise<number> {
  if (args.includes("--help") || args.some((a) => a !== "--check")) {
    console.log(
      "Usage: deno task schema [--check]\n" +
        "  Writes examples/dag.schema.json and README.md's DAG field tables from shared/dag/schema.ts;\n" +
        "  --check only says whether they are current (exit 1 when stale).",
    );
    return args.includes("--help") ? 0 : 2;
  }
  const readme = await Deno.readTextFile(README_FILE);
  const current = await Deno.readTextFile(SCHEMA_FILE).catch(() => "");
  const next = generated(readme);
  const stale = [
    ...(current === next.schema ? [] : ["examples/dag.schema.json"]),
    ...(readme === next.readme ? [] : ["README.md"]),
  ];
  if (args.includes("--check")) {
    if (stale.length > 0) console.error(`Stale: ${stale.join(", ")}; run deno task schema`);
    return stale.length > 0 ? 1 : 0;
  }
  await Deno.writeTextFile(SCHEMA_FILE, next.schema);
  await Deno.writeTextFile(README_FILE, next.readme);
  console.log(stale.length > 0 ? `Wrote ${stale.join(", ")}` : "Already current");
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
