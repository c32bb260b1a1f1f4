/** Capability matching and device choice: pure functions of the target and the devices' views. */
import type { Capabilities } from "../protocol/messages.ts";
import type { Target } from "./schema.ts";

/** What the matcher needs to know of a device. */
export interface MatchableDevice {
  id: string;
  name: string;
  capabilities: Pick<Capabilities, "os" | "apps" | "tags" | "input">;
}

/** A device the scheduler may choose. */
export interface CandidateDevice extends MatchableDevice {
  online: boolean;
  rttMs: number | null;
  /** Nodes running (or assigned) on it now. */
  activeNodes: number;
  /** Whether one of them uses the screen and input. */
  guiBusy: boolean;
}

const OS_ALIASES: Record<string, string> = {
  macos: "darwin",
  mac: "darwin",
  osx: "darwin",
  win: "windows",
  win32: "windows",
};

function normalOs(os: string): string {
  const lower = os.toLowerCase();
  return OS_ALIASES[lower] ?? lower;
}

/** Whether `device` meets `target`. */
export function matchesTarget(target: Target, device: MatchableDevice): boolean {
  if ("device" in target) return target.device === device.id || target.device === device.name;
  const caps = device.capabilities;
  if (target.os !== undefined && normalOs(target.os) !== normalOs(caps.os.platform)) return false;
  const apps = new Set(caps.apps.map((a) => a.toLowerCase()));
  if (target.apps?.some((app) => !apps.has(app.toLowerCase()))) return false;
  const tags = new Set(caps.tags);
  if (target.tags?.some((tag) => !tags.has(tag))) return false;
  if (target.input === true && !(caps.input.mouse && caps.input.keyboard)) return false;
  return true;
}

/** Among online, matching devices that can take the node, the least busy, then lowest RTT, then id. */
export function chooseDevice(
  target: Target,
  gui: boolean,
  devices: readonly CandidateDevice[],
): CandidateDevice | null {
  let best: CandidateDevice | null = null;
  for (const device of devices) {
    if (!device.online || (gui && device.guiBusy) || !matchesTarget(target, device)) continue;
    if (best === null || compare(device, best) < 0) best = device;
  }
  return best;
}

function compare(a: CandidateDevice, b: CandidateDevice): number {
  if (a.activeNodes !== b.activeNodes) return a.activeNodes - b.activeNodes;
  const rttA = a.rttMs ?? Number.POSITIVE_INFINITY;
  const rttB = b.rttMs ?? Number.POSITIVE_INFINITY;
  if (rttA !== rttB) return rttA - rttB;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Why no device can take a node right now, for a waiting node's visible reason. */
export function whyWaiting(target: Target, gui: boolean, devices: readonly CandidateDevice[]): string {
  const matching = devices.filter((d) => matchesTarget(target, d));
  const wanted = "device" in target ? `device ${target.device}` : `a device with ${JSON.stringify(target)}`;
  if (matching.length === 0) return `no known device matches: waiting for ${wanted}`;
  if (!matching.some((d) => d.online)) return `every matching device is offline: waiting for ${wanted}`;
  if (gui) return `every matching device is busy with a GUI node`;
  return `no matching device is free`;
}
