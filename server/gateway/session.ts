/**
 * A device session: outlives its socket for the resume grace window, so reliable messages in either
 * direction survive a dropped connection exactly once and in order.
 */
import { createHash } from "node:crypto";
import { type Capabilities, ReliableInbox, ReliableOutbox } from "../../shared/protocol/mod.ts";
import type { Connection } from "./connection.ts";
import type { DeviceState, DeviceView } from "./types.ts";

/** A known device; kept after it goes offline so operators and the scheduler still see it. */
export interface DeviceRecord {
  id: string;
  name: string;
  keyId: string;
  capabilities: Capabilities;
  state: DeviceState;
  busy: boolean;
  rttMs: number | null;
  lastSeen: number;
  sessionId: string | null;
}

/** Heartbeat bookkeeping of a ready session. */
export interface Heartbeat {
  nextPingId: number;
  nextPingAtMs: number;
  pending: { id: number; sentAtMs: number } | null;
}

/** One device session. */
export class Session {
  readonly outbox = new ReliableOutbox();
  readonly inbox = new ReliableInbox();
  connection: Connection | null = null;
  device: DeviceRecord | null = null;
  /** When the socket dropped; null while connected. */
  detachedAtMs: number | null = null;
  /** A pending cumulative SEQ_ACK. */
  ackTimer: ReturnType<typeof setTimeout> | undefined;
  heartbeat: Heartbeat = { nextPingId: 1, nextPingAtMs: 0, pending: null };
  /** On-demand PINGs awaiting their PONG: id → start time (high resolution) and resolver. */
  readonly probes = new Map<number, { startedAt: number; resolve: (rttMs: number | null) => void }>();

  constructor(readonly id: string, readonly keyId: string) {}
}

/** The stable device id for a key and a device name: the same pair always gives the same id. */
export function deviceIdFor(keyId: string, name: string): string {
  return "dev_" + createHash("sha256").update(`${keyId}\u0000${name}`).digest("hex").slice(0, 20);
}

/** The operator's view of a device record. */
export function viewOf(record: DeviceRecord): DeviceView {
  return {
    id: record.id,
    name: record.name,
    state: record.state,
    rttMs: record.rttMs,
    lastSeen: record.lastSeen,
    capabilities: record.capabilities,
    keyId: record.keyId,
  };
}
