import assert from "node:assert/strict";
import { sequentialIds } from "../../shared/ids.ts";
import { startGateway, tickUntil, until } from "../../tests/helpers/gateway_harness.ts";
import { FrameStore } from "../media/frame_store.ts";
import { captureThrough } from "../media/frame_capture.ts";
import { StepExecutor } from "../brain/steps.ts";
import { ActionDispatcher } from "../gateway/action_dispatcher.ts";
import { NodeRunner, type RunSpec, scriptSteps } from "./node_runner.ts";
import { TaskChannel } from "./task_channel.ts";

async function setup() {
  const h = startGateway();
  const frames = new FrameStore({ clock: h.clock, request: captureThrough(() => dispatcher) });
  const dispatcher = new ActionDispatcher({
    gateway: h.gateway,
    clock: h.clock,
    newId: sequentialIds("act"),
    onFrame: (deviceId, frame, path) => frames.put(deviceId, frame, path),
  });
  const tasks = new TaskChannel(h.gateway);
  const steps = new StepExecutor({ dispatcher, frames, clock: h.clock, ocr: null, findText: () => [] });
  const runner = new NodeRunner({ gateway: h.gateway, steps, tasks, clock: h.clock });
  const device = h.device();
  const deviceId = (await device.handshake(h.deviceKey.secret, "worker")).ready.payload.deviceId;
  return {
    h,
    runner,
    device,
    deviceId,
    spec(steps: RunSpec["source"], deadlineMs = h.clock.now() + 5000): RunSpec {
      return {
        deviceId,
        source: steps,
        task: {
          taskId: "t1",
          dagId: "d1",
          nodeId: "n1",
          attempt: 1,
          kind: "script",
          inputs: [],
          outputs: [],
          deadlineMs,
        },
      };
    },
    async close() {
      dispatcher.close();
      tasks.close();
      await h.close();
    },
  };
}

Deno.test(
  "NodeRunner runs EXECUTE_TASK, each step awaiting its RESULT, then FINISH_TASK and the task RESULT",
  async () => {
    const s = await setup();
    try {
      const run = s.runner.run(
        s.spec(
          scriptSteps([{ type: "click", x: 5, y: 6, button: "left", double: false }, {
            type: "wait",
            ms: 10,
          }]),
        ),
        new AbortController().signal,
      );
      const execute = await s.device.next("EXECUTE_TASK");
      assert.equal(execute.payload.nodeId, "n1");
      assert.equal(
        s.device.received.some((m) => m.type === "ACTION_CLICK"),
        false,
        "no step before TASK_ACCEPTED",
      );
      s.device.sendReliable("TASK_ACCEPTED", { taskId: "t1" });
      const click = await s.device.next("ACTION_CLICK");
      assert.deepEqual([click.payload.x, click.payload.y, click.payload.taskId], [5, 6, "t1"]);
      s.device.sendReliable("RESULT", { actionId: click.payload.actionId, taskId: "t1", ok: true });
      // The wait step runs on the fake clock: FINISH_TASK comes once 10 ms have passed.
      await tickUntil(
        s.h.clock,
        () => s.device.received.some((m) => m.type === "FINISH_TASK"),
        "FINISH_TASK",
      );
      await s.device.next("FINISH_TASK");
      const sha256 = "a".repeat(64);
      s.device.sendReliable("RESULT", {
        taskId: "t1",
        ok: true,
        artifacts: [{ artifact: "r", file: "r.pdf", size: 3, sha256 }],
      });
      const outcome = await run;
      assert.ok(outcome.ok);
      assert.deepEqual(outcome.artifacts.map((a) => a.artifact), ["r"]);
      assert.deepEqual(outcome.steps.map((step) => [step.step.type, step.ok]), [["click", true], [
        "wait",
        true,
      ]]);
    } finally {
      await s.close();
    }
  },
);

Deno.test("NodeRunner fails the attempt with the device's error when a step fails", async () => {
  const s = await setup();
  try {
    const run = s.runner.run(
      s.spec(scriptSteps([{ type: "key", keys: "nosuchkey" }, { type: "type", text: "never" }])),
      new AbortController().signal,
    );
    await s.device.next("EXECUTE_TASK");
    s.device.sendReliable("TASK_ACCEPTED", { taskId: "t1" });
    const key = await s.device.next("ACTION_KEY");
    const error = {
      code: "unknown-key" as const,
      message: "Cannot execute action: unknown key name: nosuchkey",
      retryable: false,
    };
    s.device.sendReliable("RESULT", { actionId: key.payload.actionId, ok: false, error });
    const outcome = await run;
    assert.ok(!outcome.ok);
    assert.equal(outcome.failure.code, "unknown-key");
    assert.equal(s.device.received.some((m) => m.type === "ACTION_TYPE"), false, "the next step never ran");
  } finally {
    await s.close();
  }
});

Deno.test("NodeRunner fails the attempt when the task's own RESULT reports a failure", async () => {
  const s = await setup();
  try {
    const run = s.runner.run(s.spec(scriptSteps([])), new AbortController().signal);
    await s.device.next("EXECUTE_TASK");
    s.device.sendReliable("TASK_ACCEPTED", { taskId: "t1" });
    await s.device.next("FINISH_TASK");
    const error = { code: "action-failed" as const, message: "Cannot upload output report", retryable: true };
    s.device.sendReliable("RESULT", { taskId: "t1", ok: false, error });
    const outcome = await run;
    assert.ok(!outcome.ok);
    assert.deepEqual([outcome.failure.code, outcome.failure.retryable], ["action-failed", true]);
  } finally {
    await s.close();
  }
});

Deno.test("NodeRunner stops when the scheduler aborts it and tells the device to cancel", async (t) => {
  const s = await setup();
  try {
    await t.step("an operator's cancel", async () => {
      const controller = new AbortController();
      const run = s.runner.run(s.spec(scriptSteps([{ type: "wait", ms: 60_000 }])), controller.signal);
      await s.device.next("EXECUTE_TASK");
      s.device.sendReliable("TASK_ACCEPTED", { taskId: "t1" });
      await until(() => s.h.clock.pendingCount() > 0, "the wait step under way");
      controller.abort("cancelled");
      const outcome = await run;
      assert.ok(!outcome.ok);
      assert.equal(outcome.failure.code, "cancelled");
      assert.equal((await s.device.next("CANCEL_TASK")).payload.taskId, "t1");
    });
    await t.step("the scheduler's deadline (its timer is the only one: the runner arms none)", async () => {
      const timersBefore = s.h.clock.pendingCount();
      const controller = new AbortController();
      const run = s.runner.run(s.spec(scriptSteps([]), s.h.clock.now() + 100), controller.signal);
      await s.device.next("EXECUTE_TASK");
      assert.equal(s.h.clock.pendingCount(), timersBefore, "no deadline timer of the runner's own");
      controller.abort("timeout");
      const outcome = await run;
      assert.ok(!outcome.ok);
      assert.match(outcome.failure.message, /timeout/);
      assert.match((await s.device.next("CANCEL_TASK")).payload.reason, /timeout/);
    });
  } finally {
    await s.close();
  }
});

Deno.test("a device cannot answer for a task assigned to another device", async () => {
  const s = await setup();
  const intruder = s.h.device();
  try {
    await intruder.handshake(s.h.deviceKey.secret, "intruder");
    const run = s.runner.run(s.spec(scriptSteps([])), new AbortController().signal);
    await s.device.next("EXECUTE_TASK");
    intruder.sendReliable("TASK_ACCEPTED", { taskId: "t1" });
    intruder.sendReliable("RESULT", { taskId: "t1", ok: true });
    intruder.sendReliable("RESULT", { actionId: "act-unknown", ok: true });
    const codes = [await intruder.next("ERROR"), await intruder.next("ERROR"), await intruder.next("ERROR")]
      .map((e) => e.payload.code);
    assert.deepEqual(codes, ["not-your-work", "not-your-work", "not-your-work"]);
    s.device.sendReliable("TASK_ACCEPTED", { taskId: "t1" });
    await s.device.next("FINISH_TASK");
    s.device.sendReliable("RESULT", { taskId: "t1", ok: true });
    assert.ok((await run).ok, "the real device's answers still count");
  } finally {
    await s.close();
  }
});
