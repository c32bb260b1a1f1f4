import assert from "node:assert/strict";
import { type DagError, validateDag } from "./validate.ts";

const script = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  kind: "script",
  target: { device: "A" },
  steps: [],
  ...extra,
});

function refused(input: unknown): Array<[string, string | undefined, string]> {
  const result = validateDag(input);
  assert.ok(!result.ok, "expected the DAG to be refused");
  return result.error.map((e: DagError) => [e.code, e.node, e.rule]);
}

function messages(input: unknown): string[] {
  const result = validateDag(input);
  assert.ok(!result.ok);
  return result.error.map((e) => e.message);
}

Deno.test("validateDag() accepts the seed example and orders it topologically", () => {
  const result = validateDag({
    name: "report hand-off",
    nodes: [
      script("upload", { after: ["arrived"], inputs: [{ artifact: "report", file: "incoming/report.pdf" }] }),
      { id: "arrived", kind: "server", after: ["download"], op: { waitFor: "report" } },
      script("download", { outputs: [{ artifact: "report", file: "report.pdf" }] }),
    ],
  });
  assert.ok(result.ok);
  assert.deepEqual(result.value.order, ["download", "arrived", "upload"]);
  assert.deepEqual(result.value.warnings, []);
});

Deno.test("validateDag() names the node and the rule for each graph rule", () => {
  assert.deepEqual(refused({ name: "d", nodes: [script("a"), script("a")] }), [[
    "duplicate-node",
    "a",
    "unique-ids",
  ]]);
  assert.deepEqual(refused({ name: "d", nodes: [script("a", { after: ["ghost"] })] }), [
    ["unknown-dependency", "a", "known-dependencies"],
  ]);
  assert.deepEqual(refused({ name: "d", nodes: [script("a", { after: ["a"] })] }), [
    ["self-dependency", "a", "no-self-dependency"],
  ]);
  assert.deepEqual(
    refused({ name: "d", nodes: [script("a", { inputs: [{ artifact: "r", file: "r.pdf" }] })] }),
    [
      ["unknown-artifact", "a", "inputs-produced-upstream"],
    ],
  );
  assert.deepEqual(refused({ name: "d", nodes: [{ id: "w", kind: "server", op: { waitFor: "r" } }] }), [
    ["unknown-artifact", "w", "inputs-produced-upstream"],
  ]);
  const sideways = {
    name: "d",
    nodes: [
      script("p", { outputs: [{ artifact: "r", file: "r" }] }),
      script("a", { inputs: [{ artifact: "r", file: "r" }] }),
    ],
  };
  assert.deepEqual(refused(sideways), [["artifact-not-upstream", "a", "inputs-produced-upstream"]]);
  const twice = {
    name: "d",
    nodes: [
      script("p", { outputs: [{ artifact: "r", file: "r" }] }),
      script("q", { outputs: [{ artifact: "r", file: "s" }] }),
    ],
  };
  assert.deepEqual(refused(twice), [["duplicate-artifact", "q", "one-producer"]]);
  assert.deepEqual(
    refused({ name: "d", nodes: [{ id: "g", kind: "agent", target: { device: "A" }, goal: "x" }] }),
    [
      ["agent-unsupported", "g", "agent-nodes"],
    ],
  );
  assert.ok(
    validateDag({ name: "d", nodes: [{ id: "g", kind: "agent", target: {}, goal: "x" }] }, {
      allowAgents: true,
    }).ok,
  );
});

Deno.test("validateDag() checks provenance transitively: a producer two levels up counts, a cousin does not", () => {
  const upstream = {
    name: "d",
    nodes: [
      script("p", { outputs: [{ artifact: "r", file: "r" }] }),
      script("m", { after: ["p"] }),
      script("c", { after: ["m"], inputs: [{ artifact: "r", file: "r" }] }),
    ],
  };
  assert.ok(validateDag(upstream).ok);
  const cousin = {
    name: "d",
    nodes: [
      script("root"),
      script("p", { after: ["root"], outputs: [{ artifact: "r", file: "r" }] }),
      script("c", { after: ["root"], inputs: [{ artifact: "r", file: "r" }] }),
    ],
  };
  assert.deepEqual(refused(cousin), [["artifact-not-upstream", "c", "inputs-produced-upstream"]]);
});

Deno.test("validateDag() names the nodes of a cycle, and only them", () => {
  const result = validateDag({
    name: "d",
    nodes: [
      script("x"),
      script("a", { after: ["c", "x"] }),
      script("b", { after: ["a"] }),
      script("c", { after: ["b"] }),
    ],
  });
  assert.ok(!result.ok);
  assert.deepEqual(result.error.map((e) => [e.code, e.rule]), [["cycle", "acyclic"]]);
  assert.match(
    result.error[0].message,
    /^Nodes form a cycle: (a -> b -> c -> a|b -> c -> a -> b|c -> a -> b -> c)$/,
  );
});

Deno.test("validateDag() reports schema problems with the node id, path escapes and limits by their own rules", () => {
  const shape = validateDag({
    name: "d",
    nodes: [{ id: "s", kind: "server", target: { device: "A" }, op: { sleepMs: 1 } }],
  });
  assert.ok(!shape.ok);
  assert.deepEqual([shape.error[0].code, shape.error[0].node, shape.error[0].rule], [
    "invalid-dag",
    "s",
    "schema",
  ]);
  for (const file of ["/etc/passwd", "../up.txt", "a/../../b", "c:\\x", "a\0b"]) {
    const escaped = validateDag({ name: "d", nodes: [script("a", { outputs: [{ artifact: "r", file }] })] });
    assert.ok(!escaped.ok);
    assert.deepEqual([escaped.error[0].code, escaped.error[0].node, escaped.error[0].rule], [
      "path-escape",
      "a",
      "relative-paths",
    ]);
    assert.match(escaped.error[0].message, /^nodes\.0\.outputs\.0\.file: /, file);
  }
  const long = validateDag({ name: "d", nodes: [script("a", { timeoutMs: 10 ** 12 })] });
  assert.ok(!long.ok);
  assert.deepEqual([long.error[0].code, long.error[0].node, long.error[0].rule], [
    "limit-exceeded",
    "a",
    "limits",
  ]);
  const steps = Array.from({ length: 1000 }, () => ({ type: "wait", ms: 1 }));
  const heavy = Array.from({ length: 201 }, (_, i) => script(`n${i}`, { steps }));
  assert.deepEqual(refused({ name: "d", nodes: heavy }), [["limit-exceeded", undefined, "limits"]]);
  assert.ok(messages("nope")[0].length > 0);
});

Deno.test("validateDag() turns targets no known device meets into warnings, not errors", () => {
  const device = (id: string, platform: string, tags: string[] = []) => ({
    id,
    name: `name-${id}`,
    capabilities: {
      os: { platform, version: "", hostname: "" },
      apps: [],
      tags,
      input: { mouse: true, keyboard: true },
    },
  });
  const result = validateDag({
    name: "d",
    nodes: [
      script("a", { target: { device: "name-1" } }),
      script("b", { target: { os: "windows" } }),
      script("c", { target: { tags: ["gpu"] } }),
      { id: "s", kind: "server", op: { sleepMs: 1 } },
    ],
  }, { devices: [device("1", "linux"), device("2", "darwin", ["gpu"])] });
  assert.ok(result.ok);
  assert.deepEqual(result.value.warnings.map((w) => [w.code, w.node, w.rule]), [[
    "no-matching-device",
    "b",
    "satisfiable-targets",
  ]]);
  assert.match(result.value.warnings[0].message, /^Node b will wait: no known device matches/);
});

Deno.test("validateDag() handles 10,000-node chains, wide and provenance-heavy DAGs without overflowing the stack", () => {
  const chain = Array.from({ length: 10_000 }, (_, i) =>
    script(`n${i}`, {
      after: i ? [`n${i - 1}`] : [],
      outputs: [{ artifact: `a${i}`, file: "f" }],
      inputs: i ? [{ artifact: `a${i - 1}`, file: "f" }, { artifact: "a0", file: "g" }] : [],
    }));
  const result = validateDag({ name: "chain", nodes: chain });
  assert.ok(result.ok);
  assert.equal(result.value.order.at(-1), "n9999");
  const wide = Array.from({ length: 10_000 }, (_, i) => script(`n${i}`));
  assert.ok(validateDag({ name: "wide", nodes: wide }).ok);
  const looped = chain.map((n, i) => i === 0 ? { ...n, after: ["n9999"] } : n);
  assert.deepEqual(refused({ name: "loop", nodes: looped }).map((e) => e[0]), ["cycle"]);
});

Deno.test("validateDag() refuses artifact names the artifact store refuses, naming the node and the field", () => {
  for (const bad of [".meta", "..", ".", ".partial", ".hidden", "a/b", "x".repeat(65)]) {
    const outputs = refused({
      name: "d",
      nodes: [script("make", { outputs: [{ artifact: bad, file: "f" }] })],
    });
    assert.deepEqual(outputs, [["invalid-dag", "make", "artifact-names"]], bad);
    assert.match(
      messages({ name: "d", nodes: [script("make", { outputs: [{ artifact: bad, file: "f" }] })] })[0],
      /^Node make, field outputs\.0\.artifact: name ".*" must be 1-64 letters, digits, '\.', '_' or '-', not starting with '\.'$/,
    );
  }
  const inputs = messages({
    name: "d",
    nodes: [script("use", { inputs: [{ artifact: "ok", file: "f" }, { artifact: ".meta", file: "g" }] })],
  });
  assert.match(inputs[0], /^Node use, field inputs\.1\.artifact: name "\.meta"/);
  const waitFor = refused({ name: "d", nodes: [{ id: "w", kind: "server", op: { waitFor: ".partial" } }] });
  assert.deepEqual(waitFor, [["invalid-dag", "w", "artifact-names"]]);
});

Deno.test("validateDag() accepts artifact names that only look like the store's own files", () => {
  for (const name of ["x.partial", "x.part", "report.json", "meta", "a..b", "-x", "_"]) {
    const result = validateDag({
      name: "d",
      nodes: [
        script("make", { outputs: [{ artifact: name, file: "f" }] }),
        { id: "w", kind: "server", after: ["make"], op: { waitFor: name } },
      ],
    });
    assert.ok(result.ok, `${name}: ${JSON.stringify(!result.ok && result.error)}`);
  }
});
