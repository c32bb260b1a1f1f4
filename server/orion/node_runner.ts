/**
 * Drives one attempt of a node on its device: EXECUTE_TASK (the device fetches inputs), then each step
 * through the step executor (a device action awaiting its RESULT, or a step the server decides by looking),
 * then FINISH_TASK (the device uploads outputs) and the task's RESULT. Where the next step comes from is
 * pluggable: a script's list, or the Brain's decisions. Each step, with the frame its decision used, goes to
 * `onStep` (the step log).
 */
import type { Step } from "../../shared/actions.ts";
import type { Timers } from "../../shared/clock.ts";
import { type Failure, failure, FailureError, type MessageOf } from "../../shared/protocol/mod.ts";
import { type ApprovalGate, type ApprovalPolicy, riskOf } from "../brain/approval.ts";
import type { StepExecutor, StepOutcome } from "../brain/steps.ts";
import type { Frame, ScreenText, StepEntry } from "../brain/types.ts";
import type { Gateway } from "../gateway/types.ts";
import type { TaskChannel, TaskMessage } from "./task_channel.ts";

/**
 * What a source plans next: a step (with the frame its decision used and a note for the step log, for the
 * Brain), or the end of the node (`done`, or `fail` with its failure).
 */
export type Planned =
  | Step
  | PlannedStep
  | { end: "done"; summary: string; frame?: Frame; note?: Record<string, unknown> }
  | { end: "fail"; failure: Failure; frame?: Frame; note?: Record<string, unknown> };

/** A step with what its decision used: the frame, a note for the step log, the screen's text. */
export interface PlannedStep {
  step: Step;
  frame?: Frame;
  note?: Record<string, unknown>;
  screen?: ScreenText | null;
}

/** Supplies the next step given how the previous one went; null when a script has no more steps. */
export interface StepSource {
  next(previous: StepOutcome | null): Promise<Planned | null> | Planned | null;
  /** The step after the one `next` will give, when known ahead (a script's list). */
  peekAfterNext?(): Step | null;
}

/** A script's fixed list of steps. */
export function scriptSteps(steps: readonly Step[]): StepSource {
  let index = 0;
  return { next: () => steps[index++] ?? null, peekAfterNext: () => steps[index + 1] ?? null };
}

type ExecuteTask = MessageOf<"EXECUTE_TASK">["payload"];

/** What to run, where. */
export interface RunSpec {
  deviceId: string;
  task: Omit<ExecuteTask, "seq" | "steps">;
  source: StepSource;
  /** Called once the device has its inputs and accepted the task (the node is then running). */
  onAccepted?: () => void;
  /** Hold actions for an operator: every one, or only risky ones. */
  approval?: ApprovalPolicy;
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
  steps: StepExecutor;
  tasks: TaskChannel;
  clock: Timers;
  /** Each step as it ended, with the frame its decision used (the step log). */
  onStep?: (entry: StepEntry, frame?: Frame) => void;
  /** Where actions of nodes with an `approval` policy wait for an operator. */
  approvals?: ApprovalGate;
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
      let previous: StepOutcome | null = null;
      let baseline: Frame | null = null;
      for (let index = 0;; index++) {
        if (stopReason) throw new RunStopped(stopReason);
        const upcoming = spec.source.peekAfterNext?.() ?? null;
        const planned = await spec.source.next(previous);
        if (planned === null) break;
        if ("end" in planned) {
          const at = now();
          const done = planned.end === "done";
          const end: StepRecord = {
            index,
            step: { type: "wait", ms: 0 },
            ok: done,
            startedAtMs: at,
            endedAtMs: at,
          };
          const args = done ? { summary: planned.summary } : {};
          const note = planned.note && { decision: planned.note };
          this.#log(task, end, planned.end, args, done ? null : planned.failure, note, planned.frame);
          if (!done) throw new RunStopped(planned.failure);
          break;
        }
        const { step, frame: decisionFrame, note, screen }: PlannedStep = "type" in planned
          ? { step: planned }
          : planned;
        const run = { deviceId, taskId: task.taskId, signal: stop.signal, baseline };
        const refusal = await this.#approve(spec, index, step, screen ?? null, stop.signal);
        if (refusal !== null) {
          const at = now();
          const record: StepRecord = {
            index,
            step,
            ok: false,
            startedAtMs: at,
            endedAtMs: at,
            error: refusal,
          };
          steps.push(record);
          this.#logStep(task, record, { ok: false, error: refusal, frame: decisionFrame });
          throw new RunStopped(stopReason ?? refusal);
        }
        // A `waitFor screenChange` next compares with the screen as it was before this step.
        if (upcoming?.type === "waitFor" && upcoming.screenChange) {
          const before = await this.deps.steps.capture(run);
          baseline = before.ok ? before.frame : null;
        }
        const startedAtMs = now();
        previous = await this.deps.steps.execute(step, run);
        const record: StepRecord = { index, step, ok: previous.ok, startedAtMs, endedAtMs: now() };
        if (!previous.ok) record.error = previous.error;
        steps.push(record);
        if (decisionFrame !== undefined || note !== undefined) {
          previous = {
            ...previous,
            frame: previous.frame ?? decisionFrame,
            ...(note ? { note } : {}),
          } as StepOutcome;
        }
        this.#logStep(task, record, previous);
        if (!previous.ok) throw new RunStopped(stopReason ?? previous.error);
      }
      this.deps.gateway.send(deviceId, "FINISH_TASK", { taskId: task.taskId });
      const result = await next("RESULT");
      if (!result.payload.ok) throw new RunStopped(result.payload.error! as Failure);
      return { ok: true, artifacts: result.payload.artifacts ?? [], steps };
    } catch (error) {
      const reason = error instanceof RunStopped || error instanceof FailureError
        ? error.failure
        : failure("internal", String(error), true);
      if (reason.code === "cancelled") {
        this.deps.gateway.send(deviceId, "CANCEL_TASK", { taskId: task.taskId, reason: reason.message });
      }
      return { ok: false, failure: reason, steps };
    } finally {
      signal.removeEventListener("abort", onAbort);
      close();
    }
  }

  /** Holds the step for an operator when the node's policy asks; the refusal, or null to go on. */
  async #approve(
    spec: RunSpec,
    index: number,
    step: Step,
    screen: ScreenText | null,
    signal: AbortSignal,
  ): Promise<Failure | null> {
    const gate = this.deps.approvals;
    if (spec.approval === undefined || gate === undefined || step.type === "wait") return null;
    const reason = spec.approval === "each-action"
      ? "the node holds every action for approval"
      : riskOf(step, screen);
    if (reason === null) return null;
    const { dagId, nodeId, attempt } = spec.task;
    const verdict = await gate.hold({
      dagId,
      nodeId,
      attempt,
      index,
      step,
      reason,
      since: this.deps.clock.now(),
    }, signal);
    if (verdict === null) {
      return failure("cancelled", "the attempt stopped while an action waited for approval", false);
    }
    if (verdict.approved) return null;
    return failure("rejected-by-operator", `${verdict.by}: ${verdict.reason}`);
  }

  /** A step that ran (or was refused), as the step log keeps it: its arguments, result and decision note. */
  #logStep(
    task: RunSpec["task"],
    record: StepRecord,
    outcome: StepOutcome & { note?: Record<string, unknown> },
  ): void {
    if (this.deps.onStep === undefined) return;
    const { type, ...args } = record.step;
    const output = outcome.ok ? outcome.output : undefined;
    const logged = outcome.note
      ? { ...(output === undefined ? {} : { result: output }), decision: outcome.note }
      : output;
    this.#log(task, record, type, args, outcome.ok ? null : outcome.error, logged, outcome.frame);
  }

  /** Hands one entry to the step log (`onStep`); `output` is left out when undefined. */
  #log(
    task: RunSpec["task"],
    record: StepRecord,
    type: string,
    args: Record<string, unknown>,
    error: Failure | null,
    output: unknown,
    frame: Frame | undefined,
  ): void {
    this.deps.onStep?.({
      dagId: task.dagId,
      nodeId: task.nodeId,
      attempt: task.attempt,
      index: record.index,
      type,
      args,
      startedAt: record.startedAtMs,
      endedAt: record.endedAtMs,
      ok: record.ok,
      error,
      ...(output !== undefined ? { output } : {}),
    }, frame);
  }
}
