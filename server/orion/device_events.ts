/**
 * Logs device state changes as events: ready (online), busy and ready again around GUI work, offline with
 * its reason. They are appended to the event log and published at once, so SSE clients see them live
 * and can replay them with Last-Event-ID.
 */
import type { DeviceState, DeviceView, Gateway } from "../gateway/types.ts";
import type { EventLog } from "./event_log.ts";

/** What the recorder needs. */
export interface DeviceEventDeps {
  gateway: Pick<Gateway, "subscribe">;
  log: EventLog;
  now: () => number;
}

/** Starts logging device state changes; returns a function that stops it. */
export function recordDeviceEvents(deps: DeviceEventDeps): () => void {
  const last = new Map<string, DeviceState>();
  const record = (device: DeviceView, to: DeviceState, reason?: string) => {
    const from = last.get(device.id) ?? null;
    // A session resumed after a short drop is ready again without ever having stopped being ready.
    if (from === to) return;
    last.set(device.id, to);
    const event = deps.log.appendDevice(deps.now(), {
      kind: "device",
      deviceId: device.id,
      name: device.name,
      from,
      to,
      ...(reason === undefined ? {} : { reason }),
    });
    deps.log.publish([event]);
  };
  return deps.gateway.subscribe({
    deviceReady: (device) => record(device, device.state),
    deviceBusy: (device, busy) => record(device, busy ? "busy" : "ready"),
    deviceOffline: (device, reason) => record(device, "offline", reason),
  });
}
