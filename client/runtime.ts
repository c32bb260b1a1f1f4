/**
 * The device runtime: turns server messages into work. Actions run one at a time, in order, through the
 * executor and each is answered by a RESULT with its action id. Several tasks may run at once (up to the
 * `maxTasks` the device announced; the server keeps to it), each with its own state: a task fetches its
 * inputs, takes its steps, uploads its outputs and ends with its RESULT; CANCEL_TASK stops it at the next
 * action boundary.
 */
import { ACTION_MESSAGE, type DeviceAction } from "../shared/actions.ts";
import {
  encodeStreamFrame,
  type Failure,
  failure,
  type FrameMeta,
  type Message,
  type MessageOf,
  type MessageType,
  type PayloadInputOf,
  toFailure,
} from "../shared/protocol/mod.ts";
import type { Clock } from "../shared/clock.ts";

/** Timings of an action as the device measured them. */
export interface ActionTimings {
  receivedAtMs: number;
  startedAtMs: number;
  endedAtMs: number;
}

/** The outcome of one action on the device. */
export type ExecutionOutcome =
  | { ok: true; output?: unknown; frame?: { meta: Omit<FrameMeta, "actionId">; image: Uint8Array } }
  | { ok: false; error: Failure };

/** Runs actions on this device (the Node helper, or nothing on a headless device). */
export interface ActionExecutor {
  execute(action: DeviceAction): Promise<ExecutionOutcome>;
  /** Stops at the next action boundary: what is queued fails as cancelled. */
  cancel(): void;
}

/** Moves a task's files. */
export interface TaskFiles {
  fetchInputs(taskId: string, inputs: MessageOf<"EXECUTE_TASK">["payload"]["inputs"]): Promise<void>;
  uploadOutputs(
    taskId: string,
    outputs: MessageOf<"EXECUTE_TASK">["payload"]["outputs"],
  ): Promise<PayloadInputOf<"RESULT">["artifacts"]>;
  handle(message: Message): boolean;
}

/** The media path for still frames (the WebRTC `frames` channel), when the device has one. */
export interface FrameChannel {
  /** Sends a frame on the channel if it is open now (true), else leaves it to STREAM_FRAME (false). */
  sendFrame(meta: FrameMeta, image: Uint8Array): boolean;
}

/** Sends to the server. */
export interface Sender {
  send<T extends MessageType>(type: T, payload: Omit<PayloadInputOf<T>, "seq">): void;
}

/** What the runtime reports for the status line. */
export interface RuntimeStatus {
  task: string | null;
  lastAction: string | null;
}

const ACTION_TYPE_BY_MESSAGE = new Map<MessageType, DeviceAction["type"]>(
  Object.entries(ACTION_MESSAGE).map((
    [action, message],
  ) => [message as MessageType, action as DeviceAction["type"]]),
);

interface RunningTask {
  taskId: string;
  label: string;
  outputs: MessageOf<"EXECUTE_TASK">["payload"]["outputs"];
  cancelled: boolean;
}

/** Actions that neither use nor wait for the screen. */
const SCREEN_FREE: ReadonlySet<DeviceAction["type"]> = new Set(["run", "fileInfo", "windows"]);

/** SHA-256 of the bytes, as lower-case hex (the server and tests check frames against it). */
async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Dispatches server messages to the executor and the file mover. */
export class DeviceRuntime {
  readonly #tasks = new Map<string, RunningTask>();
  /** Actions, one at a time in arrival order. */
  #chain: Promise<void> = Promise.resolve();
  /** Recently cancelled task ids: their queued actions fail instead of running. */
  readonly #cancelled = new Set<string>();
  readonly status: RuntimeStatus = { task: null, lastAction: null };

  constructor(
    readonly deps: {
      sender: Sender;
      executor: ActionExecutor;
      files: TaskFiles;
      clock: Clock;
      /** Frames go here first; STREAM_FRAME carries them when it is absent or its channel is closed. */
      frames?: FrameChannel;
      onStatus?: (status: RuntimeStatus) => void;
    },
  ) {}

  /** Handles one server message. */
  handle(message: Message): void {
    const actionType = ACTION_TYPE_BY_MESSAGE.get(message.type);
    if (actionType !== undefined) return this.#enqueueAction(actionType, message);
    switch (message.type) {
      case "EXECUTE_TASK":
        return this.#startTask(message.payload);
      case "FINISH_TASK":
        return this.#background(() => this.#finishTask(message.payload.taskId));
      case "CANCEL_TASK":
        return this.#cancelTask(message.payload.taskId, message.payload.reason);
      default:
        this.deps.files.handle(message);
    }
  }

  /** Forgets every task (a new session began: the server no longer knows them). */
  reset(): void {
    for (const task of this.#tasks.values()) task.cancelled = true;
    this.#tasks.clear();
    this.deps.executor.cancel();
    this.#reportTasks();
  }

  /** Ids of the tasks running now. */
  get runningTasks(): string[] {
    return [...this.#tasks.keys()];
  }

  #enqueueAction(type: DeviceAction["type"], message: Message): void {
    const receivedAtMs = this.deps.clock.now();
    const { seq: _seq, actionId, taskId, ...fields } = message.payload as Record<string, unknown>;
    // What uses the screen runs one at a time, in order; running a program or looking at files or windows
    // does not wait behind it.
    const schedule = SCREEN_FREE.has(type) ? this.#background.bind(this) : this.#serial.bind(this);
    schedule(async () => {
      const startedAtMs = this.deps.clock.now();
      const base = { actionId: actionId as string, taskId: taskId as string | undefined };
      // The codec validated the payload against its message schema, which is the action's schema plus the
      // envelope: checking it again as an action would only repeat that work.
      const action = { type, ...fields } as DeviceAction;
      let outcome: ExecutionOutcome;
      if (taskId !== undefined && this.#cancelled.has(taskId as string)) {
        outcome = { ok: false, error: failure("cancelled") };
      } else {
        outcome = await this.deps.executor.execute(action);
      }
      const timings = { receivedAtMs, startedAtMs, endedAtMs: this.deps.clock.now() };
      this.#report({ lastAction: `${type} ${outcome.ok ? "ok" : outcome.error.code}` });
      if (outcome.ok && outcome.frame) {
        const meta = { ...outcome.frame.meta, actionId: base.actionId };
        const image = outcome.frame.image;
        const sha256 = await sha256Hex(image);
        // Frame first, then the RESULT; one that went by WebRTC says so, and the server waits for it.
        const viaChannel = this.deps.frames?.sendFrame(meta, image) ?? false;
        if (!viaChannel) this.deps.sender.send("STREAM_FRAME", encodeStreamFrame(meta, image));
        const { width, height, originalWidth, originalHeight, format } = meta;
        const output = {
          width,
          height,
          originalWidth,
          originalHeight,
          format,
          bytes: image.byteLength,
          sha256,
          path: viaChannel ? "webrtc" : "wss",
        };
        return this.deps.sender.send("RESULT", { ...base, ok: true, output, timings });
      }
      if (outcome.ok) {
        return this.deps.sender.send("RESULT", { ...base, ok: true, output: outcome.output, timings });
      }
      const error = { ...outcome.error, retryable: outcome.error.retryable ?? false };
      this.deps.sender.send("RESULT", { ...base, ok: false, error, timings });
    });
  }

  #startTask(task: MessageOf<"EXECUTE_TASK">["payload"]): void {
    if (this.#tasks.has(task.taskId)) return;
    const running: RunningTask = {
      taskId: task.taskId,
      label: `${task.dagId}/${task.nodeId}#${task.attempt}`,
      outputs: task.outputs,
      cancelled: false,
    };
    this.#tasks.set(task.taskId, running);
    this.#reportTasks();
    this.#background(async () => {
      try {
        await this.deps.files.fetchInputs(task.taskId, task.inputs);
      } catch (error) {
        if (!running.cancelled) {
          this.#endTask(task.taskId, { ok: false, error: toFailure(error, "action-failed") });
        }
        return;
      }
      // Cancelled while its inputs were fetched: the cancellation already answered for it.
      if (!running.cancelled) this.deps.sender.send("TASK_ACCEPTED", { taskId: task.taskId });
    });
  }

  async #finishTask(taskId: string): Promise<void> {
    const task = this.#tasks.get(taskId);
    if (task === undefined || task.cancelled) return;
    let result: Omit<PayloadInputOf<"RESULT">, "seq" | "taskId">;
    try {
      result = { ok: true, artifacts: await this.deps.files.uploadOutputs(taskId, task.outputs) };
    } catch (error) {
      result = { ok: false, error: toFailure(error, "action-failed") };
    }
    if (!task.cancelled) this.#endTask(taskId, result);
  }

  #cancelTask(taskId: string, reason: string): void {
    const task = this.#tasks.get(taskId);
    if (task === undefined) return;
    task.cancelled = true;
    this.#cancelled.add(taskId);
    if (this.#cancelled.size > 1000) this.#cancelled.delete(this.#cancelled.values().next().value!);
    this.deps.executor.cancel();
    this.#endTask(taskId, {
      ok: false,
      error: { code: "cancelled", message: `Stopped: the task was cancelled: ${reason}`, retryable: false },
    });
  }

  #endTask(taskId: string, result: Omit<PayloadInputOf<"RESULT">, "seq" | "taskId">): void {
    this.deps.sender.send("RESULT", { taskId, ...result });
    this.#tasks.delete(taskId);
    this.#reportTasks();
  }

  #serial(work: () => Promise<void> | void): void {
    this.#chain = this.#chain.then(work).catch((error) => this.#internalError(error));
  }

  /** Task work (input fetches, uploads) runs beside the action chain, one flow per task. */
  #background(work: () => Promise<void>): void {
    work().catch((error) => this.#internalError(error));
  }

  #internalError(error: unknown): void {
    this.#report({ lastAction: `internal error: ${(error as Error).message}` });
  }

  #reportTasks(): void {
    const labels = [...this.#tasks.values()].map((task) => task.label);
    const task = labels.length === 0
      ? null
      : labels.length === 1
      ? labels[0]
      : `${labels[0]} (+${labels.length - 1} more)`;
    this.#report({ task });
  }

  #report(change: Partial<RuntimeStatus>): void {
    Object.assign(this.status, change);
    this.deps.onStatus?.(this.status);
  }
}
