import assert from "node:assert/strict";
import { chooseDevice } from "../../shared/dag/matching.ts";
import { candidate } from "./placement.ts";
import { emptyState, step } from "./state_machine.ts";
import { caps, failure, ok, script, submit } from "./testing.ts";
import type { SchedulerState } from "./types.ts";

/** A small deterministic PRNG (mulberry32), so a failing case can be replayed from its seed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TARGETS = [{ tags: ["a"] }, { tags: ["a", "b"] }, { apps: ["Files"] }, { device: "d3" }, {
  os: "linux",
}];

/** Devices in random states: online or not, operator-busy, some nodes, a GUI node, various RTTs and sizes. */
function randomDevices(next: () => number): SchedulerState {
  const state = emptyState();
  const count = 1 + Math.floor(next() * 8);
  for (let i = 0; i < count; i++) {
    const id = `d${i}`;
    const maxTasks = 1 + Math.floor(next() * 3);
    const tags = ["a", "b", "c"].filter(() => next() < 0.6);
    const running = Math.floor(next() * (maxTasks + 1));
    state.devices[id] = {
      id,
      name: id,
      capabilities: caps(id, { tags, maxTasks, apps: next() < 0.5 ? ["Files"] : [] }),
      online: next() < 0.8,
      rttMs: next() < 0.2 ? null : Math.floor(next() * 4),
      busy: next() < 0.2,
      nodes: Array.from({ length: running }, (_, n) => `other/${id}-${n}`),
      gui: running > 0 && next() < 0.3 ? 1 : 0,
    };
  }
  return state;
}

Deno.test("placement picks the device chooseDevice() would pick among every device, for random devices and targets", () => {
  for (let seed = 1; seed <= 400; seed++) {
    const next = random(seed);
    const state = randomDevices(next);
    const target = TARGETS[Math.floor(next() * TARGETS.length)];
    const gui = next() < 0.5;
    const steps = gui ? [{ type: "click", x: 1, y: 1 }] : [{ type: "wait", ms: 1 }];
    const expected = chooseDevice(target, gui, Object.values(state.devices).map(candidate))?.id ?? null;
    const { commands } = step(state, submit("d", { name: "d", nodes: [script("n", { target, steps })] }), 0);
    const placed = commands.find((c) => c.type === "run-attempt");
    assert.equal(placed?.type === "run-attempt" ? placed.deviceId : null, expected, `seed ${seed}`);
  }
});

Deno.test("device node lists stay exactly the nodes placed on them through random successes, failures and retries", () => {
  for (let seed = 1; seed <= 50; seed++) {
    const next = random(seed);
    const state = emptyState();
    for (const id of ["A", "B", "C"]) {
      step(state, {
        type: "device-ready",
        device: { id, name: id, capabilities: caps(id, { maxTasks: 1 + Math.floor(next() * 4) }), rttMs: 1 },
      }, 0);
    }
    const ids = Array.from({ length: 30 }, (_, i) => `n${i}`);
    const dag = { name: "d", nodes: ids.map((id) => script(id, { target: {}, retry: { attempts: 3 } })) };
    step(state, submit("d", dag), 0);
    for (let now = 1; now < 400; now++) {
      const inFlight = ids.map((id) => state.dags.d.nodes[id]).filter((n) => n.device !== null);
      if (inFlight.length === 0) break;
      const node = inFlight[Math.floor(next() * inFlight.length)];
      const attempt = node.attempts.at(-1)!.attempt;
      step(
        state,
        next() < 0.7 ? ok("d", node.id, attempt) : {
          type: "attempt-ended",
          dagId: "d",
          nodeId: node.id,
          attempt,
          ok: false,
          failure: failure("action-failed"),
        },
        now,
      );
      for (const [timerId, timer] of Object.entries(state.timers)) {
        if (timer.kind === "retry") step(state, { type: "timer-fired", timerId }, now);
      }
      for (const device of Object.values(state.devices)) {
        const placed = ids.filter((id) => state.dags.d.nodes[id].device === device.id).map((id) => `d/${id}`);
        assert.deepEqual([...device.nodes].sort(), placed.sort(), `seed ${seed}, device ${device.id}`);
        assert.ok(device.nodes.length <= (device.capabilities.maxTasks ?? 1));
      }
    }
    assert.notEqual(state.dags.d.status, "running", `seed ${seed}: every node ended`);
  }
});
