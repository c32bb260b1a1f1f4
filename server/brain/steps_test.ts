import assert from "node:assert/strict";
import { fakeClock } from "../../shared/testing/fake_clock.ts";
import { StepExecutor, type StepExecutorDeps } from "./steps.ts";

/** An executor for steps that need no device: only the clock is real here. */
function executor(clock = fakeClock()) {
  const unused = new Proxy({}, {
    get: () => {
      throw new Error("a wait step must not use a device, frames or OCR");
    },
  });
  const deps = { dispatcher: unused, frames: unused, clock, ocr: null, findText: () => [] };
  return { clock, steps: new StepExecutor(deps as unknown as StepExecutorDeps) };
}

Deno.test("a wait of 0 ms ends without arming a timer (a timer costs the event loop's 1–2 ms tick)", async () => {
  const { clock, steps } = executor();
  const outcome = await steps.execute({ type: "wait", ms: 0 }, {
    deviceId: "d",
    signal: new AbortController().signal,
  });
  assert.deepEqual(outcome, { ok: true });
  assert.equal(clock.pendingCount(), 0);
});

Deno.test("a wait of N ms ends only once the clock moved N ms", async () => {
  const { clock, steps } = executor();
  let ended = false;
  const done = steps.execute({ type: "wait", ms: 50 }, {
    deviceId: "d",
    signal: new AbortController().signal,
  })
    .then((outcome) => {
      ended = true;
      return outcome;
    });
  await clock.tickAsync(49);
  assert.equal(ended, false);
  await clock.tickAsync(1);
  assert.deepEqual(await done, { ok: true });
});
