import assert from "node:assert/strict";
import { Scheduler } from "./state_machine.ts";
import { brief, ok, ready, script, submit } from "./testing.ts";

Deno.test("device-forgotten removes an offline device from placement; an online one stays", () => {
  const s = new Scheduler();
  s.step(ready("A"), 0);
  s.step(ready("B"), 0);
  assert.deepEqual(brief(s.step({ type: "device-forgotten", deviceId: "A" }, 1)), []);
  assert.ok(s.state.devices.A, "an online device is not forgotten");
  s.step({ type: "device-offline", deviceId: "A" }, 2);
  s.step({ type: "device-forgotten", deviceId: "A" }, 3);
  assert.equal(s.state.devices.A, undefined, "an offline one is");
  s.step(submit("d", { name: "on A", nodes: [script("n")] }), 4);
  assert.equal(s.state.dags.d.nodes.n.status, "waiting", "nothing can run on a forgotten device");
  assert.deepEqual(brief(s.step(ready("A"), 5)).slice(0, 2), [
    "n: waiting -> assigned",
    "run n#1 on A until 600005",
  ]);
});

Deno.test("a node submitted after a device that ran work is forgotten waits instead of failing the step", () => {
  const s = new Scheduler();
  s.step(ready("A"), 0);
  s.step(submit("d1", { name: "first", nodes: [script("n")] }), 1);
  s.step(ok("d1", "n"), 2);
  s.step({ type: "device-offline", deviceId: "A" }, 3);
  s.step({ type: "device-forgotten", deviceId: "A" }, 4);
  s.step(submit("d2", { name: "second", nodes: [script("n")] }), 5);
  assert.equal(s.state.dags.d2.nodes.n.status, "waiting");
  assert.deepEqual(brief(s.step(ready("A"), 6)).slice(0, 2), [
    "n: waiting -> assigned",
    "run n#1 on A until 600006",
  ]);
});
