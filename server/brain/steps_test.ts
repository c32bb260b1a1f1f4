import assert from "node:assert/strict";
import { DEFAULT_WAIT_TIMEOUT_MS } from "../../shared/actions.ts";
import { fakeClock } from "../../shared/testing/fake_clock.ts";
import type { ActionDispatcher } from "../gateway/action_dispatcher.ts";
import { StepExecutor, type StepExecutorDeps } from "./steps.ts";

/**
 * An executor on a fake clock; `dispatcher` stands in for the device (by default none: a wait step must not
 * use a device, frames or OCR).
 */
function executor(clock = fakeClock(), dispatcher?: Partial<ActionDispatcher>) {
  const unused = new Proxy({}, {
    get: () => {
      throw new Error("a wait step must not use a device, frames or OCR");
    },
  });
  const deps = { dispatcher: dispatcher ?? unused, frames: unused, clock, ocr: null, findText: () => [] };
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

Deno.test("a waitFor gives up with condition-timeout once its own timeoutMs passed, not before and not at the default", async () => {
  let looks = 0;
  const { clock, steps } = executor(fakeClock(), {
    execute: () => {
      looks++;
      const answer = { actionId: `a${looks}`, deviceId: "d", sentAtMs: 0, answeredAtMs: 0 };
      return Promise.resolve({
        ...answer,
        ok: true,
        output: { windows: [{ title: "Invoice 42 - Viewer" }] },
      });
    },
  });
  let ended = false;
  const done = steps.execute({ type: "waitFor", window: "No Such Window", timeoutMs: 1500 }, {
    deviceId: "d",
    signal: new AbortController().signal,
  })
    .then((outcome) => {
      ended = true;
      return outcome;
    });
  await clock.tickAsync(1499);
  assert.equal(ended, false, "still looking inside its timeout");
  await clock.tickAsync(1);
  assert.ok(1500 < DEFAULT_WAIT_TIMEOUT_MS);
  assert.equal(ended, true, "ended at its own timeout, long before the default one");
  const outcome = await done;
  assert.ok(!outcome.ok);
  assert.equal(outcome.error.code, "condition-timeout");
  assert.match(outcome.error.message, /No Such Window.* after 1500 ms; seen: "Invoice 42 - Viewer"/);
  assert.ok(looks > 1, "it looked again while waiting");
});
