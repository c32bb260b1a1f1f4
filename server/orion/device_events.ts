/**
 * Logs device state changes as events: ready (online), busy and ready again around GUI work, offline with
 * its reason. They are appended to the event log and published at once, so SSE clients see them live
 * and can replay them with Last-Event-ID. Readiness and loss come from the gateway, busy from the
 * scheduler (it owns who uses a screen).
 */
import type { Emitter } from "../../shared/emitter.ts";
import type { DeviceState, DeviceView, Gateway } from "../gateway/types.ts";
import type { EventLog } from "./event_log.ts";
import type { OrionEvents } from "./service.ts";

/** What the recorder needs. */
export interface DeviceEventDeps {
  gateway: Pick<Gateway, "events" | "device">;
  log: EventLog;
  now: () => number;
}

/** A running recorder. */
export interface DeviceEventRecorder {
  /** Also records busy changes the scheduler reports. */
  followBusy(events: Emitter<OrionEvents>): void;
  /** Stops recording. */
  stop(): void;
}

/**
 * Starts logging device state changes. Start it before anything else listens to the gateway, so a
 * device's own event precedes the transitions it causes.
 */
export function recordDeviceEvents(deps: DeviceEventDeps): DeviceEventRecorder {
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
  const unsubscribe = [
    deps.gateway.events.on("device-ready", (device) => record(device, "ready")),
    deps.gateway.events.on("device-offline", (device, reason) => record(device, "offline", reason)),
  ];
  return {
    followBusy(events) {
      unsubscribe.push(events.on("device-busy", (deviceId, busy) => {
        const device = deps.gateway.device(deviceId);
        if (device !== undefined && device.state !== "offline") record(device, busy ? "busy" : "ready");
      }));
    },
    stop() {
      for (const stop of unsubscribe) stop();
    },
  };
}
