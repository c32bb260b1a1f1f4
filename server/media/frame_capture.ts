/**
 * The latest-frame store's way to ask a device for a new capture: the action dispatcher's `frame` action.
 * A capture for a running task carries its id (the device accepts it while busy with that task) and waits
 * as long as the task's own deadline allows; one from the API waits for the dispatcher's default timeout.
 */
import { failure } from "../../shared/protocol/mod.ts";
import type { ActionDispatcher } from "../gateway/action_dispatcher.ts";
import type { FrameRequester } from "./frame_store.ts";

/** A requester over `dispatcher` (a function, since the dispatcher is built after the store it feeds). */
export function captureThrough(dispatcher: () => ActionDispatcher): FrameRequester {
  return async (deviceId, { signal, taskId, ...fields }) => {
    const outcome = await dispatcher().execute(deviceId, { type: "frame", ...fields }, {
      signal,
      taskId,
      timeoutMs: taskId === undefined ? undefined : null,
    });
    if (!outcome.ok) return outcome;
    return outcome.frame === undefined
      ? { ok: false, error: failure("no-frame") }
      : { ok: true, frame: outcome.frame };
  };
}
