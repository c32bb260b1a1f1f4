/**
 * DAG validation cost per node as DAGs grow (1k, 3k, 10k nodes), one run: `validateDag` (schema, names,
 * cycles, artifact provenance) on a wide DAG, a chain, and a provenance-heavy chain where every node reads
 * its parent's artifact and the first node's (so provenance walks the whole chain). Flat µs/node from 1k to
 * 10k means linear time; growth would show a quadratic check. The test suite only checks that 10,000-node
 * DAGs validate without overflowing the stack.
 */
import { validateDag } from "../shared/dag/validate.ts";
import { ascending, percentile } from "./stats.ts";

const SIZES = (Deno.env.get("BENCH_VALIDATE_SIZES") ?? "1000,3000,10000").split(",").map(Number);

const script = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  kind: "script",
  target: { device: "A" },
  steps: [],
  ...extra,
});

const SHAPES: Record<string, (count: number) => unknown[]> = {
  wide: (count) => Array.from({ length: count }, (_, i) => script(`n${i}`)),
  chain: (count) =>
    Array.from({ length: count }, (_, i) => script(`n${i}`, { after: i ? [`n${i - 1}`] : [] })),
  "provenance chain": (count) =>
    Array.from({ length: count }, (_, i) =>
      script(`n${i}`, {
        after: i ? [`n${i - 1}`] : [],
        outputs: [{ artifact: `a${i}`, file: "f" }],
        inputs: i ? [{ artifact: `a${i - 1}`, file: "f" }, { artifact: "a0", file: "g" }] : [],
      })),
};

console.log("\n## DAG validation: validateDag per node, median of 5 runs, one run of the bench");
console.log("");
console.log(`| shape | ${SIZES.map((n) => `${n.toLocaleString("en-US")} nodes µs/node`).join(" | ")} |`);
console.log(`| --- | ${SIZES.map(() => "---:").join(" | ")} |`);
for (const [shape, build] of Object.entries(SHAPES)) {
  const cells: string[] = [];
  for (const count of SIZES) {
    const dag = { name: shape, nodes: build(count) };
    const times: number[] = [];
    for (let run = 0; run < 5; run++) {
      const started = performance.now();
      const result = validateDag(dag);
      times.push(performance.now() - started);
      if (!result.ok) throw new Error(`${shape} ${count}: ${result.error[0].message}`);
    }
    cells.push((percentile(ascending(times), 0.5) * 1000 / count).toFixed(1));
  }
  console.log(`| ${shape} | ${cells.join(" | ")} |`);
}
