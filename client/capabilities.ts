/** Detects what this device is and can do, for REGISTER_CAPABILITIES. */
import type { PayloadInputOf } from "../shared/protocol/mod.ts";

/** Where to look, injectable for tests. */
export interface DetectOptions {
  name: string;
  tags: string[];
  /** Tasks the device runs at once. */
  maxTasks: number;
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
    media: { capture: display, webrtc: false },
    tags: options.tags,
    maxTasks: options.maxTasks,
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

/** Installed applications' names: .desktop entries (Linux), Start Menu shortcuts (Windows), /Applications (macOS). */
export async function installedApplications(
  os: string,
  env: (name: string) => string | undefined,
): Promise<string[]> {
  const names = new Set<string>();
  if (os === "linux") {
    const home = env("HOME") ?? "";
    const dirs = [
      env("XDG_DATA_HOME") || `${home}/.local/share`,
      ...(env("XDG_DATA_DIRS") || "/usr/local/share:/usr/share").split(":"),
    ];
    const seen = new Set<string>();
    for (const dir of dirs.filter(Boolean)) {
      for (const file of await list(`${dir}/applications`)) {
        if (!file.endsWith(".desktop") || seen.has(file)) continue;
        seen.add(file);
        const entry = await readDesktopEntry(`${dir}/applications/${file}`);
        if (
          entry?.Name && entry.NoDisplay !== "true" && entry.Hidden !== "true" &&
          (entry.Type ?? "Application") === "Application"
        ) {
          names.add(entry.Name);
        }
      }
    }
  } else if (os === "windows") {
    const roots = [
      `${env("APPDATA")}\\Microsoft\\Windows\\Start Menu\\Programs`,
      `${env("ProgramData")}\\Microsoft\\Windows\\Start Menu\\Programs`,
    ];
    for (const root of roots) {
      for (const file of await walk(root, 3)) if (file.endsWith(".lnk")) names.add(file.slice(0, -4));
    }
  } else if (os === "darwin") {
    for (const file of await list("/Applications")) if (file.endsWith(".app")) names.add(file.slice(0, -4));
  }
  return [...names].sort();
}

async function list(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) out.push(entry.name);
  } catch {
    // Missing folders are normal.
  }
  return out;
}

async function walk(dir: string, depth: number): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isDirectory && depth > 0) out.push(...await walk(`${dir}\\${entry.name}`, depth - 1));
      else out.push(entry.name);
    }
  } catch {
    // Missing folders are normal.
  }
  return out;
}

async function readDesktopEntry(path: string): Promise<Record<string, string> | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    return null;
  }
  const entry: Record<string, string> = {};
  let inGroup = false;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("[")) inGroup = line === "[Desktop Entry]";
    else if (inGroup && line.includes("=") && !line.startsWith("#")) {
      const at = line.indexOf("=");
      entry[line.slice(0, at).trim()] ??= line.slice(at + 1).trim();
    }
  }
  return entry;
}
