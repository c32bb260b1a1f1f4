/**
 * Capability matching and device choice: pure functions of a node's target and the devices' views.
 * Placement is deterministic: the same devices in any order give the same choice.
 */
import type { Capabilities } from "../protocol/messages.ts";
import type { Target } from "./schema.ts";

/** What the matcher needs to know of a device. */
export interface MatchableDevice {
  id: string;
  name: string;
  capabilities: Pick<Capabilities, "os" | "apps" | "tags" | "input"> & { run?: boolean };
}

/**
 * A device's availability: `ready` (online, screen free), `busy` (online, its screen is taken by a GUI
 * node or an operator: it may still take non-GUI work), `offline`.
 */
export type DeviceAvailability = "ready" | "busy" | "offline";

/** A device the scheduler may choose. */
export interface CandidateDevice extends MatchableDevice {
  state: DeviceAvailability;
  /** Round-trip time of the last heartbeat; null before the first one (sorts last). */
  rttMs: number | null;
  /** Nodes assigned to or running on it now (plus one while an operator holds its screen). */
  busyCount: number;
  /** Nodes it may still take: the `maxTasks` it announced less the nodes assigned to or running on it. */
  freeSlots: number;
}

/** Operating system aliases, lowercased, to the platform names devices report (`Deno.build.os`). */
export const OS_ALIASES: Readonly<Record<string, string>> = {
  macos: "darwin",
  mac: "darwin",
  osx: "darwin",
  macosx: "darwin",
  win: "windows",
  win32: "windows",
  win64: "windows",
  "gnu/linux": "linux",
  ubuntu: "linux",
  debian: "linux",
  fedora: "linux",
} as const;

/** Lowercases an OS name and resolves aliases (`macOS` → `darwin`, `Win32` → `windows`). */
export function normalizeOs(os: string): string {
  const lower = os.trim().toLowerCase();
  return OS_ALIASES[lower] ?? lower;
}

/**
 * Whether `device` meets `target`: `{device}` by id or name; otherwise every requirement given: OS
 * (case-insensitive, with aliases), every app (case-insensitive), every tag (exact), and `input: true`
 * means both mouse and keyboard.
 */
export function matchesTarget(target: Target, device: MatchableDevice): boolean {
  if ("device" in target) return target.device === device.id || target.device === device.name;
  const caps = device.capabilities;
  if (target.os !== undefined && normalizeOs(target.os) !== normalizeOs(caps.os.platform)) return false;
  if (target.apps !== undefined && target.apps.length > 0) {
    const apps = new Set(caps.apps.map((a) => a.toLowerCase()));
    if (target.apps.some((app) => !apps.has(app.toLowerCase()))) return false;
  }
  if (target.tags?.some((tag) => !caps.tags.includes(tag))) return false;
  if (target.input === true && !(caps.input.mouse && caps.input.keyboard)) return false;
  if (target.run === true && caps.run !== true) return false;
  return true;
}

/**
 * Whether a candidate may take a node now: online, below the number of tasks it announced, matching, and
 * for a GUI node its screen free.
 */
export function canTake(target: Target, gui: boolean, device: CandidateDevice): boolean {
  if (device.state === "offline" || (gui && device.state !== "ready") || device.freeSlots < 1) return false;
  return matchesTarget(target, device);
}

/** Among the devices that can take the node: the least busy, then lowest RTT, then smallest id. */
export function chooseDevice(
  target: Target,
  gui: boolean,
  devices: readonly CandidateDevice[],
): CandidateDevice | null {
  let best: CandidateDevice | null = null;
  for (const device of devices) {
    if (canTake(target, gui, device) && (best === null || compareDevices(device, best) < 0)) best = device;
  }
  return best;
}

/** Placement order: fewer nodes, then lower RTT (unknown last), then id. */
export function compareDevices(a: CandidateDevice, b: CandidateDevice): number {
  if (a.busyCount !== b.busyCount) return a.busyCount - b.busyCount;
  const rttA = a.rttMs ?? Number.POSITIVE_INFINITY;
  const rttB = b.rttMs ?? Number.POSITIVE_INFINITY;
  if (rttA !== rttB) return rttA < rttB ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Why no device can take a node right now: the waiting node's visible reason. */
export function whyWaiting(target: Target, gui: boolean, devices: readonly CandidateDevice[]): string {
  const wanted = "device" in target ? `device ${target.device}` : `a device with ${JSON.stringify(target)}`;
  const matching = devices.filter((d) => matchesTarget(target, d));
  if (matching.length === 0) return `no known device matches: waiting for ${wanted}`;
  if (matching.every((d) => d.state === "offline")) {
    return `every matching device is offline: waiting for ${wanted}`;
  }
  const online = matching.filter((d) => d.state !== "offline");
  if (gui && online.every((d) => d.state === "busy")) {
    return `every matching device is busy with a GUI node: waiting for ${wanted}`;
  }
  if (online.every((d) => d.freeSlots < 1)) {
    return `every matching device runs as many tasks as it announced (maxTasks): waiting for ${wanted}`;
  }
  return `no matching device is free: waiting for ${wanted}`;
}
