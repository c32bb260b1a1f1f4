import assert from "node:assert/strict";
import { dagMetrics } from "./metrics.ts";
import { Scheduler } from "./state_machine.ts";
import { accepted, fail, failure, ok, ready, script, submit } from "./testing.ts";

Deno.test("dagMetrics() reports total time, the critical path by actual durations, parallelism, queue waits, attempts", () => {
  const s = new Scheduler();
  s.step(ready("A"), 0);
  s.step(ready("B"), 0);
  const dag = {
    name: "m",
    nodes: [
      script("a"),
      script("b", { target: { device: "B" }, retry: { attempts: 2 } }),
      script("c", { after: ["a", "b"] }),
    ],
  };
  s.step(submit("d", dag), 0);
  s.step(accepted("d", "a"), 10);
  s.step(accepted("d", "b"), 0);
  s.step(ok("d", "a"), 40);
  s.step(fail("d", "b", 1, failure("action-failed")), 50);
  s.step({ type: "timer-fired", timerId: "retry:d:b:1" }, 50);
  s.step(accepted("d", "b", 2), 55);
  s.step(ok("d", "b", 2), 100);
  s.step(accepted("d", "c"), 110);
  s.step(ok("d", "c"), 130);
  const metrics = dagMetrics(s.state.dags.d, 999);
  assert.equal(metrics.totalMs, 130);
  assert.deepEqual(metrics.criticalPath, { nodes: ["b", "c"], ms: 120 }, "b ran 0→100, c 110→130");
  assert.equal(metrics.parallelism, Math.round(((30 + 100 + 20) / 130) * 1000) / 1000);
  assert.deepEqual(metrics.queueWaitMs, { a: 10, b: 0, c: 10 });
  assert.deepEqual(metrics.attempts, { a: 1, b: 2, c: 1 });
});
