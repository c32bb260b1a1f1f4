/**
 * The DAG JSON Schema from outside: served at GET /api/schema/dag with a token, the same as
 * examples/dag.schema.json, current with the zod schema (and the README's field tables), a description on
 * every field, and in agreement with POST /api/dags on good and bad DAGs, apart from the graph rules JSON
 * Schema cannot express.
 */
import assert from "node:assert/strict";
import Ajv from "ajv";
import { dagFieldTables, FIELDS_END, FIELDS_START, type JsonSchema, variants } from "../server/dag_docs.ts";
import { generated, README_FILE, SCHEMA_FILE } from "../server/schema_cli.ts";
import { startTestServer } from "./helpers/server.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

const schemaFile = JSON.parse(await Deno.readTextFile(SCHEMA_FILE)) as JsonSchema;

const script = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  kind: "script",
  target: { device: "nobody" },
  steps: [{ type: "wait", ms: 1 }],
  ...extra,
});
const dag = (...nodes: unknown[]) => ({ name: "case", nodes });
const step = (s: Record<string, unknown>) => dag(script("s", { steps: [s] }));
const output = (file: string, artifact = "r") => dag(script("s", { outputs: [{ artifact, file }] }));

async function example(name: string): Promise<unknown> {
  return JSON.parse(await Deno.readTextFile(new URL(`../examples/${name}`, import.meta.url)));
}

/** DAGs both the JSON Schema and the server accept. */
const GOOD: Record<string, unknown> = {
  "the handoff example": await example("handoff.json"),
  "the fan-out example": await example("fan_out_fan_in.json"),
  "the retries example": await example("retries_and_timeouts.json"),
  "the GUI example": await example("gui_text_flow.json"),
  "one script node": dag(script("a")),
  "a server sleep": dag({ id: "z", kind: "server", op: { sleepMs: 0 } }),
  "a requirements target, empty": dag(script("a", { target: {} })),
  "a requirements target, full": dag(
    script("a", { target: { os: "linux", apps: ["xterm"], tags: ["lab"], input: true, run: true } }),
  ),
  "every optional node field": dag(script("a", {
    after: [],
    inputs: [],
    outputs: [{ artifact: "x.partial", file: "dir/.hidden/ü.txt" }],
    timeoutMs: 1,
    retry: { attempts: 20 },
    approval: "risky",
  })),
  "an agent node with budgets": dag({
    id: "g",
    kind: "agent",
    target: { device: "nobody" },
    goal: "open the calculator",
    maxSteps: 5,
    maxTokens: 1000,
    approval: "each-action",
  }),
  "every step type": dag(script("a", {
    steps: [
      { type: "move", x: -5, y: 0 },
      { type: "click", x: 1, y: 2, button: "right", double: true },
      { type: "drag", from: { x: 1, y: 1 }, to: { x: 2, y: 2 } },
      { type: "type", text: "héllo" },
      { type: "key", keys: "ctrl+shift+t" },
      { type: "scroll", dy: -3 },
      { type: "launch", app: "xterm" },
      { type: "frame", format: "png", scale: 0.5, quality: 1 },
      { type: "run", command: "sh", args: ["-c", "true"], timeoutMs: 5 },
      { type: "windows" },
      { type: "fileInfo", path: "a.txt" },
      { type: "wait", ms: 0 },
      { type: "waitFor", screenChange: true, timeoutMs: 1 },
      { type: "clickText", text: "OK", occurrence: 2, timeoutMs: 0 },
    ],
  })),
  "a $schema key": { $schema: "https://example.com/any.json", ...dag(script("a")) },
};

/** DAGs both refuse. */
const BAD: Record<string, unknown> = {
  "no name": { nodes: [script("a")] },
  "an empty name": { name: "", nodes: [script("a")] },
  "a name past 200 characters": { name: "x".repeat(201), nodes: [script("a")] },
  "no nodes": { name: "d", nodes: [] },
  "an unknown top-level field": { ...dag(script("a")), title: "t" },
  "a $schema that is not a string": { $schema: 1, ...dag(script("a")) },
  "a node without id": dag({ kind: "server", op: { sleepMs: 1 } }),
  "an id with a space": dag(script("a b")),
  "an id past 64 characters": dag(script("a".repeat(65))),
  "an unknown kind": dag({ id: "a", kind: "robot", op: { sleepMs: 1 } }),
  "type instead of kind": dag({ id: "a", type: "script", target: {}, steps: [] }),
  "a script without target": dag({ id: "a", kind: "script", steps: [] }),
  "a script without steps": dag({ id: "a", kind: "script", target: {} }),
  "a script with a goal": dag(script("a", { goal: "x" })),
  "an agent without goal": dag({ id: "g", kind: "agent", target: {} }),
  "an agent with steps": dag({ id: "g", kind: "agent", target: {}, goal: "x", steps: [] }),
  "an agent token budget under 1000": dag({ id: "g", kind: "agent", target: {}, goal: "x", maxTokens: 999 }),
  "a server node with a target": dag({ id: "v", kind: "server", target: {}, op: { sleepMs: 1 } }),
  "a server node without op": dag({ id: "v", kind: "server" }),
  "an op with both fields": dag({ id: "v", kind: "server", op: { sleepMs: 1, waitFor: "r" } }),
  "an op with an unknown field": dag({ id: "v", kind: "server", op: { wait: "r" } }),
  "dependsOn": dag(script("a"), script("b", { dependsOn: ["a"] })),
  "waitFor at node level": dag(script("a", { waitFor: { text: "x" } })),
  "device at node level": dag(script("a", { device: "x" })),
  "an invalid id in after": dag(script("a", { after: ["a b"] })),
  "a target with device and os": dag(script("a", { target: { device: "x", os: "linux" } })),
  "a target with an unknown field": dag(script("a", { target: { name: "x" } })),
  "a target device that is empty": dag(script("a", { target: { device: "" } })),
  "retry attempts 0": dag(script("a", { retry: { attempts: 0 } })),
  "retry attempts 21": dag(script("a", { retry: { attempts: 21 } })),
  "retry without attempts": dag(script("a", { retry: { backoffMs: 5 } })),
  "retry with an unknown field": dag(script("a", { retry: { attempts: 2, delay: 5 } })),
  "timeoutMs 0": dag(script("a", { timeoutMs: 0 })),
  "timeoutMs 1.5": dag(script("a", { timeoutMs: 1.5 })),
  "timeoutMs as a string": dag(script("a", { timeoutMs: "5000" })),
  "timeoutMs past a day": dag(script("a", { timeoutMs: 86_400_001 })),
  "an unknown approval": dag(script("a", { approval: "sometimes" })),
  "an unknown step type": step({ type: "clik", x: 1, y: 1 }),
  "a step without type": step({ x: 1, y: 1 }),
  "a step with an unknown field": step({ type: "waitFor", text: "x", timeout: 5 }),
  "a waitFor with two conditions": step({ type: "waitFor", text: "x", window: "y" }),
  "a waitFor with no condition": step({ type: "waitFor", timeoutMs: 5 }),
  "a waitFor screenChange false": step({ type: "waitFor", screenChange: false }),
  "a click without y": step({ type: "click", x: 1 }),
  "a click with an unknown button": step({ type: "click", x: 1, y: 1, button: "side" }),
  "a frame scale of 0": step({ type: "frame", scale: 0 }),
  "a frame scale of 1.5": step({ type: "frame", scale: 1.5 }),
  "keys with spaces": step({ type: "key", keys: "ctrl + s" }),
  "an empty text to type": step({ type: "type", text: "" }),
  "a wait of -1 ms": step({ type: "wait", ms: -1 }),
  "a scroll of 1.5 notches": step({ type: "scroll", dy: 1.5 }),
  "a clickText occurrence 0": step({ type: "clickText", text: "OK", occurrence: 0 }),
  "1001 steps in a node": dag(
    script("a", { steps: Array.from({ length: 1001 }, () => ({ type: "windows" })) }),
  ),
  "an artifact named .meta": output("r.txt", ".meta"),
  "an artifact name with a slash": output("r.txt", "a/b"),
  "a file with ..": output("x/../y"),
  "an absolute file": output("/etc/passwd"),
  "a file with a backslash": output("a\\b"),
  "a file with a drive letter": output("C:x"),
  "a file with an empty segment": output("a//b"),
  "a file with a . segment": output("./a"),
  "an empty file": output(""),
  "an artifact binding with an unknown field": dag(
    script("s", { outputs: [{ artifact: "r", file: "r", x: 1 }] }),
  ),
};

/** DAGs the JSON Schema accepts and the server refuses, on purpose: rules JSON Schema cannot express. */
const SERVER_ONLY: Record<string, { dag: unknown; code: string }> = {
  "a cycle": {
    dag: dag(script("a", { after: ["b"] }), script("b", { after: ["a"] })),
    code: "cycle",
  },
  "a self-dependency": { dag: dag(script("a", { after: ["a"] })), code: "self-dependency" },
  "an unknown dependency": { dag: dag(script("a", { after: ["ghost"] })), code: "unknown-dependency" },
  "a duplicate id": { dag: dag(script("a"), script("a")), code: "duplicate-node" },
  "an input nobody produces": {
    dag: dag(script("a", { inputs: [{ artifact: "r", file: "r" }] })),
    code: "unknown-artifact",
  },
  "an artifact produced twice": {
    dag: dag(
      script("a", { outputs: [{ artifact: "r", file: "r" }] }),
      script("b", { outputs: [{ artifact: "r", file: "s" }] }),
    ),
    code: "duplicate-artifact",
  },
  "an input produced sideways": {
    dag: dag(
      script("a", { outputs: [{ artifact: "r", file: "r" }] }),
      script("b", { inputs: [{ artifact: "r", file: "r" }] }),
    ),
    code: "artifact-not-upstream",
  },
  "more than 200,000 steps in all": {
    dag: {
      name: "big",
      nodes: Array.from(
        { length: 201 },
        (_, i) => script(`n${i}`, { steps: Array.from({ length: 1000 }, () => ({ type: "windows" })) }),
      ),
    },
    code: "limit-exceeded",
  },
};

function validator(schema: JsonSchema) {
  // ajv is CommonJS: its class is the module's default export's `default`.
  const AjvClass = (Ajv as unknown as { default: typeof Ajv.default }).default ?? Ajv.default;
  // Ajv's defaults: strict about unknown keywords, so the schema uses none.
  return new AjvClass({ allErrors: true }).compile(schema);
}

Deno.test(
  "GET /api/schema/dag serves the DAG JSON Schema to operators only; it equals examples/dag.schema.json",
  live,
  async () => {
    const server = await startTestServer();
    try {
      const anonymous = await server.api("/api/schema/dag", { token: null });
      assert.equal(anonymous.status, 401);
      assert.equal((await anonymous.json()).error.code, "unauthorized");
      const device = await server.api("/api/schema/dag", { token: server.deviceKey });
      assert.equal(device.status, 403);
      assert.equal((await device.json()).error.code, "wrong-scope");
      const response = await server.api("/api/schema/dag");
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type")!, /^application\/schema\+json/);
      assert.deepEqual(await response.json(), schemaFile);
    } finally {
      await server.close();
    }
  },
);

Deno.test("examples/dag.schema.json and README.md's field tables are what deno task schema writes now", async () => {
  const readme = await Deno.readTextFile(README_FILE);
  const now = generated(readme);
  assert.equal(
    await Deno.readTextFile(SCHEMA_FILE),
    now.schema,
    "examples/dag.schema.json is stale: deno task schema",
  );
  assert.equal(readme, now.readme, "README.md's DAG field tables are stale: deno task schema");
  assert.equal(dagFieldTables(schemaFile), dagFieldTables(JSON.parse(now.schema)));
});

/** Every property path of the schema: `name`, `nodes[].after`, `nodes[].target.device`, `steps[click].x`. */
function propertyPaths(schema: JsonSchema, prefix: string, out = new Set<string>()): Set<string> {
  for (const variant of variants(schema)) {
    const type = variant.properties?.type?.const;
    const here = prefix.endsWith("steps[]") && typeof type === "string"
      ? `${prefix.slice(0, -2)}[${type}]`
      : prefix;
    for (const [name, field] of Object.entries(variant.properties ?? {})) {
      const path = here === "" ? name : `${here}.${name}`;
      out.add(path);
      propertyPaths(
        field.type === "array" ? field.items ?? {} : field,
        field.type === "array" ? `${path}[]` : path,
        out,
      );
    }
  }
  return out;
}

/** The README's field tables as schema paths, by table: `nodes[].target.device`, `nodes[].steps[click].x`. */
function documentedPaths(readme: string): Set<string> {
  const block = readme.slice(readme.indexOf(FIELDS_START), readme.indexOf(FIELDS_END));
  const paths = new Set<string>();
  for (const table of block.split("\n\n").filter((part) => part.startsWith("| "))) {
    const [header, _rule, ...rows] = table.split("\n");
    const kind = header.split("|")[1].trim();
    for (const row of rows) {
      const [first, second] = row.split("|").slice(1, 3).map((cell) => cell.trim().replaceAll("`", ""));
      if (kind === "DAG field") paths.add(first);
      else if (kind === "node field" || kind === "inside a node field") paths.add(`nodes[].${first}`);
      else if (kind === "step") paths.add(`nodes[].steps[${first}].${second}`);
      else throw new Error(`Unexpected table ${kind}`);
    }
  }
  return paths;
}

Deno.test("README's DAG field tables have a row for every field of the JSON Schema and no other", async () => {
  const documented = documentedPaths(await Deno.readTextFile(README_FILE));
  // `steps` itself is a node field; its items are documented per step type.
  const expected = propertyPaths(schemaFile, "");
  assert.deepEqual([...expected].filter((path) => !documented.has(path)), [], "fields the README leaves out");
  assert.deepEqual(
    [...documented].filter((path) => !expected.has(path)),
    [],
    "rows for fields the schema lacks",
  );
  assert.ok(documented.has("nodes[].after") && documented.has("nodes[].steps[waitFor].timeoutMs"));
});

Deno.test("every field of the JSON Schema has a description (each step type's on the step)", () => {
  const undescribed: string[] = [];
  const walk = (schema: JsonSchema, path: string) => {
    for (const variant of variants(schema)) {
      for (const [name, field] of Object.entries(variant.properties ?? {})) {
        const stepType = name === "type" && typeof field.const === "string";
        if (stepType ? !variant.description : !field.description) undescribed.push(`${path}${name}`);
        walk(field.type === "array" ? field.items ?? {} : field, `${path}${name}.`);
      }
    }
  };
  walk(schemaFile, "");
  assert.deepEqual(undescribed, []);
});

Deno.test(
  "the JSON Schema and POST /api/dags agree on good and bad DAGs; they disagree only on the graph rules, which the server alone checks",
  live,
  async (t) => {
    const server = await startTestServer(["--llm-base-url", "http://127.0.0.1:9/v1", "--llm-model", "none"]);
    const validate = validator(schemaFile);
    const post = async (body: unknown) => {
      const response = await server.api("/api/dags", { method: "POST", body: JSON.stringify(body) });
      const json = await response.json();
      if (response.status === 201) await server.api(`/api/dags/${json.id}/cancel`, { method: "POST" });
      return { status: response.status, code: json.error?.code as string | undefined, json };
    };
    try {
      await t.step("good DAGs: both accept", async () => {
        for (const [name, body] of Object.entries(GOOD)) {
          assert.ok(
            validate(body),
            `${name}: the JSON Schema refuses it: ${JSON.stringify(validate.errors)}`,
          );
          const answer = await post(body);
          assert.equal(answer.status, 201, `${name}: the server refuses it: ${JSON.stringify(answer.json)}`);
        }
      });
      await t.step("bad DAGs: both refuse", async () => {
        for (const [name, body] of Object.entries(BAD)) {
          assert.ok(!validate(body), `${name}: the JSON Schema accepts it`);
          const answer = await post(body);
          assert.equal(answer.status, 400, `${name}: the server answers ${answer.status}`);
          assert.ok(
            ["invalid-dag", "limit-exceeded", "path-escape"].includes(answer.code!),
            `${name}: ${answer.code}`,
          );
        }
      });
      await t.step(
        "graph rules: the JSON Schema accepts, the server refuses with the rule's code",
        async () => {
          for (const [name, { dag: body, code }] of Object.entries(SERVER_ONLY)) {
            assert.ok(
              validate(body),
              `${name}: the JSON Schema refuses it: ${JSON.stringify(validate.errors)}`,
            );
            const answer = await post(body);
            assert.deepEqual([answer.status, answer.code], [400, code], name);
          }
        },
      );
    } finally {
      await server.close();
    }
  },
);
