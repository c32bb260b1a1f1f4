import assert from "node:assert/strict";
import type { DeviceAction } from "../shared/actions.ts";
import { ManualClock } from "../shared/clock.ts";
import type { Message } from "../shared/protocol/mod.ts";
import { type ActionExecutor, DeviceRuntime, type ExecutionOutcome, type TaskFiles } from "./runtime.ts";

/** An executor whose actions finish only when the test says so. */
class GatedExecutor implements ActionExecutor {
  readonly started: DeviceAction[] = [];
  #release: Array<() => void> = [];
  cancelled = 0;
  execute(action: DeviceAction): Promise<ExecutionOutcome> {
    this.started.push(action);
    return new Promise((resolve) =>
      this.#release.push(() => resolve({ ok: true, output: { done: action.type } }))
    );
  }
  cancel(): void {
    this.cancelled++;
  }
  finishOne(): void {
    this.#release.shift()?.();
  }
}

const noFiles: TaskFiles = {
  fetchInputs: () => Promise.resolve(),
  uploadOutputs: () => Promise.resolve([]),
  handle: () => false,
};

function setup() {
  const sent: Array<{ type: string; payload: Record<string, unknown> }> = [];
  const executor = new GatedExecutor();
  const runtime = new DeviceRuntime({
    sender: {
      send: (type, payload) => void sent.push({ type, payload: payload as Record<string, unknown> }),
    },
    executor,
    files: noFiles,
    clock: new ManualClock(),
  });
  return { sent, executor, runtime };
}

const message = (type: string, payload: Record<string, unknown>) =>
  ({ type, payload, timestampMs: 0 }) as unknown as Message;
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("DeviceRuntime runs actions in order and answers each with a RESULT carrying its action id", async () => {
  const { sent, executor, runtime } = setup();
  runtime.handle(message("ACTION_MOVE", { seq: 1, actionId: "a1", x: 1, y: 2 }));
  runtime.handle(message("ACTION_KEY", { seq: 2, actionId: "a2", keys: "ctrl+c" }));
  await settle();
  assert.deepEqual(executor.started.map((a) => a.type), ["move"], "the second waits for the first");
  executor.finishOne();
  await settle();
  executor.finishOne();
  await settle();
  assert.deepEqual(sent.map((m) => [m.type, m.payload.actionId, m.payload.ok]), [["RESULT", "a1", true], [
    "RESULT",
    "a2",
    true,
  ]]);
  assert.ok(sent[0].payload.timings);
});

Deno.test("CANCEL_TASK ends the task at the next action boundary: queued actions of that task fail as cancelled", async () => {
  const { sent, executor, runtime } = setup();
  runtime.handle(
    message("EXECUTE_TASK", {
      seq: 1,
      taskId: "t",
      dagId: "d",
      nodeId: "n",
      attempt: 1,
      kind: "script",
      inputs: [],
      outputs: [],
      deadlineMs: 0,
    }),
  );
  await settle();
  assert.deepEqual(sent.map((m) => m.type), ["TASK_ACCEPTED"]);
  runtime.handle(message("ACTION_MOVE", { seq: 2, actionId: "a1", taskId: "t", x: 1, y: 1 }));
  runtime.handle(message("ACTION_MOVE", { seq: 3, actionId: "a2", taskId: "t", x: 2, y: 2 }));
  await settle();
  runtime.handle(message("CANCEL_TASK", { seq: 4, taskId: "t", reason: "operator" }));
  assert.equal(executor.cancelled, 1);
  executor.finishOne();
  await settle();
  await settle();
  assert.equal(executor.started.length, 1, "the queued action never ran");
  const results = sent.filter((m) => m.type === "RESULT").map((
    m,
  ) => [
    m.payload.taskId,
    m.payload.actionId ?? null,
    m.payload.ok,
    (m.payload.error as { code?: string })?.code ?? null,
  ]);
  assert.deepEqual(results, [["t", null, false, "cancelled"], ["t", "a1", true, null], [
    "t",
    "a2",
    false,
    "cancelled",
  ]]);
});

/** A file mover whose input fetches finish only when the test says so. */
class GatedFiles implements TaskFiles {
  readonly fetching: string[] = [];
  readonly #release = new Map<string, () => void>();
  fetchInputs(taskId: string): Promise<void> {
    this.fetching.push(taskId);
    return new Promise((resolve) => this.#release.set(taskId, resolve));
  }
  uploadOutputs() {
    return Promise.resolve([]);
  }
  handle() {
    return false;
  }
  finishFetch(taskId: string): void {
    this.#release.get(taskId)!();
  }
}

function gatedSetup() {
  const sent: Array<{ type: string; payload: Record<string, unknown> }> = [];
  const files = new GatedFiles();
  const executor = new GatedExecutor();
  const runtime = new DeviceRuntime({
    sender: {
      send: (type, payload) => void sent.push({ type, payload: payload as Record<string, unknown> }),
    },
    executor,
    files,
    clock: new ManualClock(),
  });
  return { sent, files, executor, runtime };
}

const execute = (taskId: string, seq: number) =>
  message("EXECUTE_TASK", {
    seq,
    taskId,
    dagId: "d",
    nodeId: taskId,
    attempt: 1,
    kind: "script",
    inputs: [],
    outputs: [],
    deadlineMs: 0,
  });

async function sentUntil(sent: Array<{ type: string; payload: Record<string, unknown> }>, count: number) {
  for (let i = 0; i < 100 && sent.length < count; i++) await settle();
  assert.ok(sent.length >= count, `expected ${count} messages, got ${JSON.stringify(sent)}`);
}

Deno.test("a task cancelled while its inputs are fetched never sends TASK_ACCEPTED", async () => {
  const { sent, files, executor, runtime } = gatedSetup();
  runtime.handle(execute("t1", 1));
  await settle();
  assert.deepEqual(files.fetching, ["t1"]);
  runtime.handle(message("CANCEL_TASK", { seq: 2, taskId: "t1", reason: "operator" }));
  files.finishFetch("t1");
  await settle();
  // The marker: an operator action handled after the fetch ended; its RESULT comes after anything t1 sends.
  runtime.handle(message("ACTION_MOVE", { seq: 3, actionId: "marker", x: 1, y: 1 }));
  for (let i = 0; i < 100 && !sent.some((m) => m.payload.actionId === "marker"); i++) {
    executor.finishOne();
    await settle();
  }
  assert.deepEqual(
    sent.map((
      m,
    ) => [
      m.type,
      m.payload.taskId ?? m.payload.actionId,
      (m.payload.error as { code?: string })?.code ?? null,
    ]),
    [["RESULT", "t1", "cancelled"], ["RESULT", "marker", null]],
  );
  assert.deepEqual(runtime.runningTasks, []);
});

Deno.test("two tasks run at once on one device, each ends with its own RESULT after its FINISH_TASK", async () => {
  const { sent, files, runtime } = gatedSetup();
  runtime.handle(execute("a", 1));
  runtime.handle(execute("b", 2));
  await settle();
  assert.deepEqual(files.fetching, ["a", "b"], "both fetch their inputs at once");
  files.finishFetch("a");
  files.finishFetch("b");
  await sentUntil(sent, 2);
  assert.deepEqual(runtime.runningTasks, ["a", "b"]);
  runtime.handle(message("FINISH_TASK", { seq: 3, taskId: "a" }));
  await sentUntil(sent, 3);
  runtime.handle(message("FINISH_TASK", { seq: 4, taskId: "b" }));
  await sentUntil(sent, 4);
  assert.deepEqual(sent.map((m) => [m.type, m.payload.taskId, m.payload.ok ?? null]), [
    ["TASK_ACCEPTED", "a", null],
    ["TASK_ACCEPTED", "b", null],
    ["RESULT", "a", true],
    ["RESULT", "b", true],
  ]);
  assert.deepEqual(runtime.runningTasks, []);
});
