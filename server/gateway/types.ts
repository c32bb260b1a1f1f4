/** The gateway's public face: what the REST API, the scheduler, the Brain and the transfers use. */
import type { Emitter } from "../../shared/emitter.ts";
import type { Capabilities, MessageType, PayloadInputOf } from "../../shared/protocol/mod.ts";
import type { Router } from "./router.ts";

/**
 * A device's connection state as the gateway knows it. `busy` is not the gateway's fact (the scheduler
 * owns who uses a screen); the REST API shows it by combining both.
 */
export type DeviceState = "connecting" | "ready" | "busy" | "offline";

/** A device as the gateway knows it. */
export interface DeviceView {
  id: string;
  name: string;
  state: DeviceState;
  /** Round-trip time of the last heartbeat, in ms; null before the first one. */
  rttMs: number | null;
  lastSeen: number;
  capabilities: Capabilities;
  /** Id of the key the device authenticated with. */
  keyId: string;
}

/** What the gateway reports, as typed events. */
export type GatewayEvents = {
  /** A device finished its handshake (or resumed) and may receive work. */
  "device-ready": [device: DeviceView];
  /** A device went offline (socket lost past the grace window, heartbeat timeout, revoked, BYE). */
  "device-offline": [device: DeviceView, reason: string];
  /** A ready device's round-trip time moved noticeably (see `registry.ts`). */
  "device-updated": [device: DeviceView];
  /** An offline device was forgotten (`operator`: DELETE /api/devices/:id; `retention`: unseen too long). */
  "device-forgotten": [device: DeviceView, reason: string];
};

/** Sends to devices, reports on them, and routes what they send to each message's one owner. */
export interface Gateway {
  /** Sends a message to a READY device. Reliable types get their `seq` here; false if not sendable. */
  send<T extends MessageType>(deviceId: string, type: T, payload: Omit<PayloadInputOf<T>, "seq">): boolean;
  /** Every known device, online or not. */
  devices(): DeviceView[];
  /** One device by id, or by name when no id matches. */
  device(idOrName: string): DeviceView | undefined;
  /** A PING now: the round-trip time in ms (high resolution), or null when offline or unanswered. */
  ping(deviceId: string, timeoutMs?: number): Promise<number | null>;
  /** Bytes queued on the device's socket, for senders of bulk data (0 when not connected). */
  bufferedBytes(deviceId: string): number;
  /**
   * Forgets an offline device (`device-forgotten`); returns it, or null when it is unknown or still has a
   * session (connected, or waiting for a resume). It is listed again if it joins again.
   */
  forget(deviceId: string, reason: string): DeviceView | null;
  /** Device arrivals, losses and updates. */
  readonly events: Emitter<GatewayEvents>;
  /** Where messages from READY devices go: each type to the one handler that owns it. */
  readonly router: Router;
}
