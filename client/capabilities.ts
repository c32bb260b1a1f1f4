/** Detects what this device is and can do, for REGISTER_CAPABILITIES. */
import type { PayloadInputOf } from "../shared/protocol/mod.ts";
import { listApplications } from "./apps.ts";

/** Where to look, injectable for tests. */
export interface DetectOptions {
  name: string;
  tags: string[];
  /** Tasks the device runs at once. */
  maxTasks: number;
  /** Whether the device runs programs (`--allow-run`). */
  run?: boolean;
  /** Whether it sends frames over WebRTC (`--webrtc`; only with a screen to capture). */
  webrtc?: boolean;
  /** Screen sizes (from the helper); empty when headless. */
  screens: Array<{ width: number; height: number }>;
  env?: (name: string) => string | undefined;
  os?: string;
}

/** Detects capabilities for real: OS, hostname, screens, applications, input and media abilities. */
export async function detectCapabilities(
  options: DetectOptions,
): Promise<PayloadInputOf<"REGISTER_CAPABILITIES">> {
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  const os = options.os ?? Deno.build.os;
  const display = options.screens.length > 0;
  return {
    name: options.name,
    os: { platform: os, version: await osVersion(os), hostname: Deno.hostname() },
    apps: (await installedApplications(os, env)).slice(0, 5000),
    screens: options.screens,
    input: { mouse: display, keyboard: display },
    media: { capture: display, webrtc: display && (options.webrtc ?? false) },
    tags: options.tags,
    maxTasks: options.maxTasks,
    run: options.run ?? false,
  };
}

async function osVersion(os: string): Promise<string> {
  if (os === "linux") {
    try {
      const release = await Deno.readTextFile("/etc/os-release");
      const pretty = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(release)?.[1];
      if (pretty) return `${pretty} (kernel ${Deno.osRelease()})`.slice(0, 128);
    } catch {
      // Fall back to the kernel version.
    }
  }
  return Deno.osRelease().slice(0, 128);
}

/** Installed applications' names, as `launch` knows them (one finder for both: `apps.ts`). */
export async function installedApplications(
  os: string,
  env: (name: string) => string | undefined,
): Promise<string[]> {
  return [...new Set((await listApplications({ os, env })).map((app) => app.name))];
}
