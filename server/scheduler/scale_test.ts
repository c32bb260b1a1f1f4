import assert from "node:assert/strict";
import { Scheduler } from "./state_machine.ts";
import { ok, ready, runs, submit } from "./testing.ts";

const worker = (id: string, after: string[] = [], gui = false) => ({
  id,
  kind: "script",
  target: { tags: ["w"] },
  steps: [gui ? { type: "move", x: 1, y: 1 } : { type: "wait", ms: 1 }],
  after,
});

const SHAPES: Record<string, () => unknown[]> = {
  chain: () => Array.from({ length: 10_000 }, (_, i) => worker(`n${i}`, i ? [`n${i - 1}`] : [])),
  wide: () => Array.from({ length: 10_000 }, (_, i) => worker(`n${i}`)),
  "wide GUI (waiting queue)": () => Array.from({ length: 10_000 }, (_, i) => worker(`n${i}`, [], true)),
  diamond: () => [
    worker("top"),
    ...Array.from({ length: 9_998 }, (_, i) => worker(`m${i}`, ["top"])),
    worker("bottom", Array.from({ length: 1000 }, (_, i) => `m${i}`)),
  ],
};

for (const [shape, build] of Object.entries(SHAPES)) {
  // What it costs per node, at 1k to 10k nodes of each shape: bench/scheduler_core_bench.ts.
  Deno.test(`a 10,000-node ${shape} DAG runs through 100 devices to its end, without deep recursion`, () => {
    const s = new Scheduler();
    for (let d = 0; d < 100; d++) s.step(ready(`dev${d}`, d, { tags: ["w"] }), 0);
    const queue = runs(s.step(submit(shape, { name: shape, nodes: build() }), 0));
    let done = 0;
    while (queue.length > 0) {
      const next = queue.shift()!;
      queue.push(...runs(s.step(ok(shape, next.nodeId, next.attempt), 1)));
      done++;
    }
    assert.equal(done, 10_000);
    assert.equal(s.state.dags[shape].status, "succeeded");
    assert.deepEqual(s.state.waiting, {}, "no wait queue left behind");
  });
}
