/**
 * The device registry: every known device (kept after it goes offline, and seeded from the store after a
 * restart), its connection state, last-seen time and heartbeat RTT. It is the one place that says a
 * device is ready, offline or has a new RTT, as typed events. An RTT is reported when it is the first
 * sample or moved by a quarter (and at least a millisecond) since the last report, at most once per
 * `rttReportEveryMs`, so placement sees live RTT without a store write per heartbeat.
 */
import { createHash } from "node:crypto";
import type { Clock } from "../../shared/clock.ts";
import { Emitter } from "../../shared/emitter.ts";
import type { Capabilities } from "../../shared/protocol/mod.ts";
import type { DeviceView, GatewayEvents } from "./types.ts";

/** A known device and the session it is attached to. */
export interface DeviceRecord {
  id: string;
  name: string;
  keyId: string;
  capabilities: Capabilities;
  state: "connecting" | "ready" | "offline";
  rttMs: number | null;
  lastSeen: number;
  sessionId: string | null;
  /** The RTT last reported by `device-updated` (or with `device-ready`), and when. */
  reportedRttMs: number | null;
  reportedAtMs: number;
}

/** The stable device id for a key and a device name: the same pair always gives the same id. */
export function deviceIdFor(keyId: string, name: string): string {
  return "dev_" + createHash("sha256").update(`${keyId}\u0000${name}`).digest("hex").slice(0, 20);
}

/** The public view of a record. */
export function viewOf(record: DeviceRecord): DeviceView {
  const { id, name, state, rttMs, lastSeen, capabilities, keyId } = record;
  return { id, name, state, rttMs, lastSeen, capabilities, keyId };
}

/** Settings of the registry. */
export interface RegistryOptions {
  clock: Clock;
  /** Devices known from an earlier run, listed offline until they reconnect. */
  known?: readonly DeviceView[];
  /** Least time between two RTT reports of one device (default 60 s). */
  rttReportEveryMs?: number;
  onListenerError?: (error: unknown) => void;
}

/** Known devices and their state. */
export class DeviceRegistry {
  readonly events: Emitter<GatewayEvents>;
  readonly #records = new Map<string, DeviceRecord>();
  readonly #options: RegistryOptions;

  constructor(options: RegistryOptions) {
    this.#options = options;
    this.events = new Emitter<GatewayEvents>((error) => options.onListenerError?.(error));
    for (const device of options.known ?? []) {
      this.#records.set(device.id, {
        ...device,
        state: "offline",
        sessionId: null,
        reportedRttMs: null,
        reportedAtMs: 0,
      });
    }
  }

  /** One record by id. */
  get(id: string): DeviceRecord | undefined {
    return this.#records.get(id);
  }

  /** One device by id, or by name when no id matches (the most recently seen of that name). */
  find(idOrName: string): DeviceRecord | undefined {
    const byId = this.#records.get(idOrName);
    if (byId !== undefined) return byId;
    let found: DeviceRecord | undefined;
    for (const record of this.#records.values()) {
      if (record.name === idOrName && (found === undefined || record.lastSeen > found.lastSeen)) {
        found = record;
      }
    }
    return found;
  }

  /** Every known device. */
  views(): DeviceView[] {
    return [...this.#records.values()].map(viewOf);
  }

  /** A device registered on a fresh session: created or updated, and ready (`device-ready`). */
  register(keyId: string, capabilities: Capabilities, sessionId: string): DeviceRecord {
    const id = deviceIdFor(keyId, capabilities.name);
    let record = this.#records.get(id);
    if (record === undefined) {
      record = {
        id,
        name: capabilities.name,
        keyId,
        capabilities,
        state: "offline",
        rttMs: null,
        lastSeen: 0,
        sessionId: null,
        reportedRttMs: null,
        reportedAtMs: 0,
      };
      this.#records.set(id, record);
    }
    record.capabilities = capabilities;
    this.online(record, sessionId);
    return record;
  }

  /** A device is ready on `sessionId` (fresh or resumed): `device-ready`. */
  online(record: DeviceRecord, sessionId: string): void {
    const now = this.#options.clock.now();
    record.sessionId = sessionId;
    record.state = "ready";
    record.lastSeen = now;
    record.reportedRttMs = record.rttMs;
    record.reportedAtMs = now;
    this.events.emit("device-ready", viewOf(record));
  }

  /** The device's socket dropped; its session waits for a resume. */
  detached(id: string): void {
    const record = this.#records.get(id);
    if (record !== undefined && record.state === "ready") record.state = "connecting";
  }

  /** The device's session `sessionId` ended: offline (`device-offline`), unless a newer session took it. */
  offline(id: string, sessionId: string, reason: string): void {
    const record = this.#records.get(id);
    if (record === undefined || record.sessionId !== sessionId) return;
    record.sessionId = null;
    record.state = "offline";
    this.events.emit("device-offline", viewOf(record), reason);
  }

  /** Removes an offline device (`device-forgotten`); returns it, or null when unknown or not offline. */
  forget(id: string, reason: string): DeviceRecord | null {
    const record = this.#records.get(id);
    if (record === undefined || record.state !== "offline" || record.sessionId !== null) return null;
    this.#records.delete(id);
    this.events.emit("device-forgotten", viewOf(record), reason);
    return record;
  }

  /** Something arrived from the device at `atMs` (its connection's arrival time: no clock read per message). */
  heard(id: string, atMs: number): void {
    const record = this.#records.get(id);
    if (record !== undefined) record.lastSeen = atMs;
  }

  /** A heartbeat measured `rttMs`; reported (`device-updated`) when it moved enough. */
  rtt(id: string, rttMs: number): void {
    const record = this.#records.get(id);
    if (record === undefined) return;
    record.rttMs = rttMs;
    if (record.state !== "ready") return;
    const now = this.#options.clock.now();
    const last = record.reportedRttMs;
    const moved = last === null ||
      (Math.abs(rttMs - last) >= Math.max(1, last / 4) &&
        now - record.reportedAtMs >= (this.#options.rttReportEveryMs ?? 60_000));
    if (!moved) return;
    record.reportedRttMs = rttMs;
    record.reportedAtMs = now;
    this.events.emit("device-updated", viewOf(record));
  }
}
