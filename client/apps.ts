/**
 * The one app finder: the applications a device advertises in its capabilities are exactly the ones
 * `launch` can start. Linux: XDG `.desktop` entries (visible `Application`s with an `Exec`); Windows:
 * Start Menu shortcuts; macOS: `/Applications` bundles. Launched apps start in the files directory.
 */

/** An installed application: its display name, an id (desktop file id, shortcut or bundle name), how to start it. */
export interface InstalledApp {
  name: string;
  id: string;
  /** Program and arguments. */
  command: string[];
}

/** Where to look; injectable for tests. */
export interface AppSearch {
  os: string;
  env: (name: string) => string | undefined;
}

/** Every application this machine offers, sorted by name. */
export async function listApplications(search: AppSearch): Promise<InstalledApp[]> {
  const apps = new Map<string, InstalledApp>();
  if (search.os === "linux") {
    for (const dir of applicationDirs(search.env)) {
      for (const file of await list(dir)) {
        if (!file.endsWith(".desktop") || apps.has(file)) continue;
        const entry = parseDesktopEntry(await readText(`${dir}/${file}`) ?? "");
        if (!entry.Name || !entry.Exec || entry.NoDisplay === "true" || entry.Hidden === "true") continue;
        if ((entry.Type ?? "Application") !== "Application") continue;
        const exec = entry.Exec.replace(/%[fFuUdDnNickvm]/g, "").replace(/%%/g, "%").trim();
        apps.set(file, {
          name: entry.Name,
          id: file.slice(0, -".desktop".length),
          command: ["/bin/sh", "-c", exec],
        });
      }
    }
  } else if (search.os === "windows") {
    const roots = [
      `${search.env("APPDATA")}\\Microsoft\\Windows\\Start Menu\\Programs`,
      `${search.env("ProgramData")}\\Microsoft\\Windows\\Start Menu\\Programs`,
    ];
    for (const root of roots) {
      for (const path of await walk(root, 3)) {
        if (!path.endsWith(".lnk")) continue;
        const name = path.slice(path.lastIndexOf("\\") + 1, -4);
        apps.set(path, { name, id: name, command: ["cmd", "/c", "start", "", path] });
      }
    }
  } else if (search.os === "darwin") {
    for (const file of await list("/Applications")) {
      if (!file.endsWith(".app")) continue;
      const name = file.slice(0, -4);
      apps.set(file, { name, id: name, command: ["open", "-a", `/Applications/${file}`] });
    }
  }
  return [...apps.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** The application called `name` (display name or id, case-insensitive), or null. */
export function findApplication(apps: readonly InstalledApp[], name: string): InstalledApp | null {
  const wanted = name.toLowerCase();
  return apps.find((a) => a.name.toLowerCase() === wanted) ??
    apps.find((a) => a.id.toLowerCase() === wanted) ??
    null;
}

/** Starts `app` detached, in `cwd`; resolves with its pid. */
export function startApplication(app: InstalledApp, cwd: string, env?: Record<string, string>): number {
  const child = new Deno.Command(app.command[0], {
    args: app.command.slice(1),
    cwd,
    env,
    stdin: "null",
    stdout: "null",
    stderr: "null",
    detached: true,
  }).spawn();
  child.unref();
  return child.pid;
}

/** The XDG application folders, most specific first. */
function applicationDirs(env: (name: string) => string | undefined): string[] {
  const dataHome = env("XDG_DATA_HOME") || `${env("HOME") ?? ""}/.local/share`;
  const dataDirs = (env("XDG_DATA_DIRS") || "/usr/local/share:/usr/share").split(":").filter(Boolean);
  return [dataHome, ...dataDirs].map((dir) => `${dir}/applications`);
}

/** The `[Desktop Entry]` group of a .desktop file; the first value of a key wins. */
export function parseDesktopEntry(text: string): Record<string, string> {
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

async function readText(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return null;
  }
}

async function list(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) out.push(entry.name);
  } catch {
    // Missing folders are normal.
  }
  return out.sort();
}

async function walk(dir: string, depth: number): Promise<string[]> {
  const out: string[] = [];
  for (const name of await list(dir)) {
    const path = `${dir}\\${name}`;
    const info = await Deno.stat(path).catch(() => null);
    if (info?.isDirectory && depth > 0) out.push(...await walk(path, depth - 1));
    else out.push(path);
  }
  return out;
}

/** Launches applications by name for the executor. */
export type Launcher = (name: string) => Promise<{ app: string; pid: number } | null>;

/** A launcher over this machine's applications, starting them in `cwd` with extra `env` (e.g. DISPLAY). */
export function appLauncher(search: AppSearch, cwd: string, env?: Record<string, string>): Launcher {
  return async (name) => {
    const app = findApplication(await listApplications(search), name);
    if (app === null) return null;
    return { app: app.name, pid: startApplication(app, cwd, env) };
  };
}
