/** The gateway's public face: what the REST API, the scheduler and the action API use. */
import type { Capabilities, Message, MessageType, PayloadInputOf } from "../../shared/protocol/mod.ts";

/** A device's state as operators see it. */
export type DeviceState = "connecting" | "ready" | "busy" | "offline";

/** A device as listed by `GET /api/devices`. */
export interface DeviceView {
  id: string;
  name: string;
  state: DeviceState;
  rttMs: number | null;
  lastSeen: number;
  capabilities: Capabilities;
  /** Id of the key the device authenticated with. */
  keyId: string;
}

/** Events the gateway emits to the rest of the server. */
export interface GatewayListener {
  /** A device finished its handshake (or resumed) and may receive work. */
  deviceReady?(device: DeviceView): void;
  /** A ready device became busy with GUI work, or ready again (`setBusy` changed its state). */
  deviceBusy?(device: DeviceView, busy: boolean): void;
  /** A device went offline (socket lost past the grace window, heartbeat timeout, revoked, BYE). */
  deviceOffline?(device: DeviceView, reason: string): void;
  /** A post-handshake message from a READY device, after de-duplication. */
  message?(deviceId: string, message: Message): void;
}

/** Sends to devices and reports on them. */
export interface Gateway {
  /** Sends a message to a READY device. Reliable types get their `seq` here; returns false if not sendable. */
  send<T extends MessageType>(deviceId: string, type: T, payload: Omit<PayloadInputOf<T>, "seq">): boolean;
  /** Every known device, online or not. */
  devices(): DeviceView[];
  /** One device by id. */
  device(id: string): DeviceView | undefined;
  /** Marks a ready device busy or back to ready (the scheduler's view of GUI work). */
  setBusy(deviceId: string, busy: boolean): void;
  /** Bytes queued on the device's socket, for senders of bulk data (0 when not connected). */
  bufferedBytes(deviceId: string): number;
  /** Subscribes to device events; returns an unsubscribe function. */
  subscribe(listener: GatewayListener): () => void;
}
