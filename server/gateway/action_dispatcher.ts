/**
 * Sends device actions and waits for their RESULTs. The operator action API and the scheduler's node
 * runner both drive devices through here, so an action is matched to its answer in one place, and a
 * device can only answer for actions sent to it. Frames reach it through one input, `frameArrived`, from
 * either path: the STREAM_FRAME route here, and the media module's `frames` data channel. A RESULT whose
 * output says its frame went by WebRTC (`"path": "webrtc"`) before the frame has arrived waits for it, at
 * most `frameWaitMs` (the two paths are not ordered with each other).
 */
import type { DeviceAction } from "../../shared/actions.ts";
import { ACTION_MESSAGE } from "../../shared/actions.ts";
import {
  decodeStreamFrame,
  type ErrorCode,
  type Failure,
  type MessageOf,
  protocolError,
  type StreamFrame,
} from "../../shared/protocol/mod.ts";
import type { Timers } from "../../shared/clock.ts";
import type { IdSource } from "../../shared/ids.ts";
import type { Gateway } from "./types.ts";

/** The answer to one action. */
export type ActionOutcome =
  & { actionId: string; deviceId: string; sentAtMs: number; answeredAtMs: number }
  & (
    | {
      ok: true;
      output: unknown;
      timings?: { receivedAtMs: number; startedAtMs: number; endedAtMs: number };
      frame?: StreamFrame;
    }
    | { ok: false; error: Failure }
  );

/** Options of one dispatch. */
export interface DispatchOptions {
  taskId?: string;
  /**
   * How long the device gets to answer (default `defaultTimeoutMs`); null waits until `signal` aborts
   * (a scheduled step: its node's deadline is the scheduler's, which aborts the attempt).
   */
  timeoutMs?: number | null;
  signal?: AbortSignal;
}

interface Pending {
  deviceId: string;
  sentAtMs: number;
  frame?: StreamFrame;
  /** Set while a RESULT waits for its frame from the data channel. */
  awaitingFrame?: (frame: StreamFrame) => void;
  frameTimer?: unknown;
  settle(outcome: ActionOutcome): void;
}

/** The path a frame travelled: the WebRTC data channel, or STREAM_FRAME on the control path. */
export type FrameArrivalPath = "webrtc" | "wss";

/** Dependencies of the dispatcher. */
export interface ActionDispatcherOptions {
  gateway: Gateway;
  clock: Timers;
  newId: IdSource;
  /** Default time a device gets to answer (30 s). */
  defaultTimeoutMs?: number;
  /** How long a RESULT that says its frame went by WebRTC waits for that frame (default 5 s). */
  frameWaitMs?: number;
  /** Every frame that arrives, from either path, solicited or not (the media frame store). */
  onFrame?: (deviceId: string, frame: StreamFrame, path: FrameArrivalPath) => void;
}

/** Matches actions to RESULTs. */
export class ActionDispatcher {
  readonly #options: ActionDispatcherOptions;
  readonly #pending = new Map<string, Pending>();
  readonly #unsubscribe: Array<() => void>;

  constructor(options: ActionDispatcherOptions) {
    this.#options = options;
    this.#unsubscribe = [
      options.gateway.router.own(["RESULT:action"], (deviceId, message) => this.#onResult(deviceId, message)),
      options.gateway.router.own(["STREAM_FRAME"], (deviceId, message) => this.#onFrame(deviceId, message)),
      options.gateway.events.on("device-offline", (device) => this.#failDevice(device.id)),
    ];
  }

  /** Sends `action` to `deviceId` and resolves with its outcome; never rejects. */
  execute(deviceId: string, action: DeviceAction, options: DispatchOptions = {}): Promise<ActionOutcome> {
    const actionId = this.#options.newId();
    const sentAtMs = this.#options.clock.now();
    const failure = (code: ErrorCode, retryable: boolean, detail?: string) =>
      this.#failure(actionId, { deviceId, sentAtMs }, code, retryable, detail);
    const fail = (code: ErrorCode, retryable: boolean, detail?: string) =>
      Promise.resolve(failure(code, retryable, detail));
    const device = this.#options.gateway.device(deviceId);
    if (device === undefined) return fail("unknown-device", false, deviceId);
    if (device.state === "offline" || device.state === "connecting") {
      return fail("device-offline", true, device.name);
    }
    const { type: _type, ...fields } = action;
    const sent = this.#options.gateway.send(deviceId, ACTION_MESSAGE[action.type], {
      ...fields,
      actionId,
      taskId: options.taskId,
    } as never);
    if (!sent) return fail("send-refused", true, device.name);
    return new Promise((resolve) => {
      const clock = this.#options.clock;
      const timeoutMs = options.timeoutMs === undefined
        ? this.#options.defaultTimeoutMs ?? 30_000
        : options.timeoutMs;
      const timer = timeoutMs === null ? undefined : clock.setTimeout(
        () => settle(failure("timeout", true, `no answer from ${device.name} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const onAbort = () => settle(failure("cancelled", false));
      options.signal?.addEventListener("abort", onAbort, { once: true });
      const settle = (outcome: ActionOutcome) => {
        const pending = this.#pending.get(actionId);
        if (pending === undefined) return;
        this.#pending.delete(actionId);
        clock.clearTimeout(pending.frameTimer);
        clock.clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        resolve(outcome);
      };
      this.#pending.set(actionId, { deviceId, sentAtMs, settle });
    });
  }

  /**
   * A frame arrived from `deviceId` (by STREAM_FRAME or on the data channel): it goes to the frame store
   * and, when its metadata names a pending REQUEST_FRAME of that device, to that action's outcome.
   */
  frameArrived(
    deviceId: string,
    frame: StreamFrame,
    path: FrameArrivalPath = "wss",
  ): void {
    this.#options.onFrame?.(deviceId, frame, path);
    const actionId = frame.meta.actionId;
    const pending = actionId === undefined ? undefined : this.#pending.get(actionId);
    if (pending === undefined || pending.deviceId !== deviceId) return;
    pending.frame = frame;
    pending.awaitingFrame?.(frame);
  }

  /** Actions still waiting for an answer. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Stops listening; pending actions fail as cancelled. */
  close(): void {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    for (const [actionId, pending] of this.#pending) {
      pending.settle(this.#failure(actionId, pending, "cancelled", false, "server shutting down"));
    }
  }

  #onResult(deviceId: string, message: MessageOf<"RESULT">): void {
    const actionId = message.payload.actionId!;
    const pending = this.#pending.get(actionId);
    if (pending === undefined || pending.deviceId !== deviceId) {
      this.#options.gateway.send(
        deviceId,
        "ERROR",
        protocolError("not-your-work", `action ${actionId}`, actionId),
      );
      return;
    }
    const base = { actionId, deviceId, sentAtMs: pending.sentAtMs, answeredAtMs: this.#options.clock.now() };
    const result = message.payload;
    if (!result.ok) {
      const { code, message: text, retryable } = result.error!;
      return pending.settle({ ...base, ok: false, error: { code, message: text, retryable } });
    }
    const succeed = (frame: StreamFrame | undefined) =>
      pending.settle({ ...base, ok: true, output: result.output, timings: result.timings, frame });
    const output = result.output as { path?: unknown } | undefined;
    if (pending.frame !== undefined || output?.path !== "webrtc") return succeed(pending.frame);
    if (pending.awaitingFrame !== undefined) return;
    // The frame is still on the data channel: settle when it arrives, or without it after frameWaitMs.
    const clock = this.#options.clock;
    const settleWith = (frame: StreamFrame | undefined) => {
      clock.clearTimeout(timer);
      pending.awaitingFrame = undefined;
      succeed(frame);
    };
    const timer = clock.setTimeout(() => settleWith(undefined), this.#options.frameWaitMs ?? 5000);
    pending.frameTimer = timer;
    pending.awaitingFrame = settleWith;
  }

  #onFrame(deviceId: string, message: MessageOf<"STREAM_FRAME">): void {
    const decoded = decodeStreamFrame(message.payload);
    if (!decoded.ok) {
      this.#options.gateway.send(deviceId, "ERROR", decoded.error);
      return;
    }
    this.frameArrived(deviceId, decoded.value, "wss");
  }

  #failDevice(deviceId: string): void {
    for (const [actionId, pending] of this.#pending) {
      if (pending.deviceId !== deviceId) continue;
      pending.settle(this.#failure(actionId, pending, "device-lost", true));
    }
  }

  #failure(
    actionId: string,
    pending: Pick<Pending, "deviceId" | "sentAtMs">,
    code: ErrorCode,
    retryable: boolean,
    detail?: string,
  ): ActionOutcome {
    const { message } = protocolError(code, detail);
    return {
      ok: false,
      actionId,
      deviceId: pending.deviceId,
      sentAtMs: pending.sentAtMs,
      answeredAtMs: this.#options.clock.now(),
      error: { code, message, retryable },
    };
  }
}
