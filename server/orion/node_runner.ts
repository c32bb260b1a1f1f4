/**
 * Drives one attempt of a node on its device: EXECUTE_TASK (the device fetches inputs), then each step
 * as an action awaiting its RESULT, then FINISH_TASK (the device uploads outputs) and the task's RESULT.
 * Where the next step comes from is pluggable: a script's list now, the Brain's decisions later.
 */
import type { Step } from "../../shared/actions.ts";
import { sleep, type Timers } from "../../shared/clock.ts";
import { type Failure, failure, type MessageOf } from "../../shared/protocol/mod.ts";
import { outcomeFrame, stepEntry } from "../brain/step_entry.ts";
import type { Frame, StepEntry } from "../brain/types.ts";
import type { ActionDispatcher, ActionOutcome } from "../gateway/action_dispatcher.ts";
import type { Gateway } from "../gateway/types.ts";
import type { TaskChannel, TaskMessage } from "./task_channel.ts";

/** Supplies the next step given how the previous one went; null when the node is done. */
export interface StepSource {
  next(previous: ActionOutcome | null): Promise<Step | null> | Step | null;
}

/** A script's fixed list of steps. */
export function scriptSteps(steps: readonly Step[]): StepSource {
  let index = 0;
  return { next: () => steps[index++] ?? null };
}

type ExecuteTask = MessageOf<"EXECUTE_TASK">["payload"];

/** What to run, where. */
export interface RunSpec {
  deviceId: string;
  task: Omit<ExecuteTask, "seq" | "steps">;
  source: StepSource;
  /** Called once the device has its inputs and accepted the task (the node is then running). */
  onAccepted?: () => void;
}

/** One step as it ran. */
export interface StepRecord {
  index: number;
  step: Step;
  ok: boolean;
  startedAtMs: number;
  endedAtMs: number;
  error?: Failure;
}

/** How an attempt ended. */
export type RunOutcome =
  | { ok: true; artifacts: NonNullable<MessageOf<"RESULT">["payload"]["artifacts"]>; steps: StepRecord[] }
  | { ok: false; failure: Failure; steps: StepRecord[] };

/** Dependencies of the runner. */
export interface NodeRunnerDeps {
  gateway: Gateway;
  dispatcher: ActionDispatcher;
  tasks: TaskChannel;
  clock: Timers;
  /** Told as each step ends, with the frame it captured (the step log); never throws. */
  onStep?(entry: StepEntry, frame?: Frame): void;
}

class RunStopped extends Error {
  constructor(readonly failure: Failure) {
    super(failure.message);
  }
}

/**
 * Runs node attempts on devices. The attempt's deadline and the loss of its device are the scheduler's
 * facts: it aborts `signal` (with the failure's code as the reason), and the runner stops and tells the
 * device to cancel.
 */
export class NodeRunner {
  constructor(readonly deps: NodeRunnerDeps) {}

  /** Runs one attempt; never rejects. Aborting `signal` cancels it on the device. */
  async run(spec: RunSpec, signal: AbortSignal): Promise<RunOutcome> {
    const { deviceId, task } = spec;
    const steps: StepRecord[] = [];
    const inbox: TaskMessage[] = [];
    let wake: () => void = () => {};
    const stop = new AbortController();
    let stopReason: Failure | null = null;
    const halt = (reason: Failure) => {
      stopReason ??= reason;
      stop.abort();
      wake();
    };
    const close = this.deps.tasks.open(task.taskId, deviceId, (message) => {
      inbox.push(message);
      wake();
    });
    const onAbort = () => halt(failure("cancelled", String(signal.reason ?? "cancelled"), false));
    if (signal.aborted) onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    const now = () => this.deps.clock.now();
    const keep = (record: StepRecord, outcome: ActionOutcome | null) => {
      steps.push(record);
      this.deps.onStep?.(stepEntry(task, record, outcome), outcomeFrame(outcome));
    };
    const next = async <T extends TaskMessage["type"]>(
      type: T,
    ): Promise<Extract<TaskMessage, { type: T }>> => {
      while (true) {
        if (stopReason) throw new RunStopped(stopReason);
        const index = inbox.findIndex((m) => m.type === type || m.type === "RESULT");
        if (index >= 0) {
          const message = inbox.splice(index, 1)[0];
          if (message.type === type) return message as Extract<TaskMessage, { type: T }>;
          const result = message as MessageOf<"RESULT">;
          if (!result.payload.ok) throw new RunStopped(result.payload.error! as Failure);
          throw new RunStopped(failure("out-of-order", `task ${task.taskId} ended before ${type}`, false));
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
    };
    try {
      if (!this.deps.gateway.send(deviceId, "EXECUTE_TASK", task)) {
        return { ok: false, failure: failure("device-offline", deviceId, true), steps };
      }
      await next("TASK_ACCEPTED");
      spec.onAccepted?.();
      let previous: ActionOutcome | null = null;
      for (let index = 0;; index++) {
        if (stopReason) throw new RunStopped(stopReason);
        const step = await spec.source.next(previous);
        if (step === null) break;
        const startedAtMs = now();
        if (step.type === "wait") {
          await sleep(this.deps.clock, step.ms, stop.signal);
          keep({ index, step, ok: true, startedAtMs, endedAtMs: now() }, null);
          previous = null;
          continue;
        }
        previous = await this.deps.dispatcher.execute(deviceId, step, {
          taskId: task.taskId,
          signal: stop.signal,
          timeoutMs: null,
        });
        const record: StepRecord = { index, step, ok: previous.ok, startedAtMs, endedAtMs: now() };
        if (!previous.ok) record.error = previous.error;
        keep(record, previous);
        if (!previous.ok) throw new RunStopped(stopReason ?? previous.error);
      }
      this.deps.gateway.send(deviceId, "FINISH_TASK", { taskId: task.taskId });
      const result = await next("RESULT");
      if (!result.payload.ok) throw new RunStopped(result.payload.error! as Failure);
      return { ok: true, artifacts: result.payload.artifacts ?? [], steps };
    } catch (error) {
      const reason = error instanceof RunStopped ? error.failure : failure("internal", String(error), true);
      if (reason.code === "cancelled") {
        this.deps.gateway.send(deviceId, "CANCEL_TASK", { taskId: task.taskId, reason: reason.message });
      }
      return { ok: false, failure: reason, steps };
    } finally {
      signal.removeEventListener("abort", onAbort);
      close();
    }
  }
}
