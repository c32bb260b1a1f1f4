// Installed applications from XDG .desktop entries (Linux), for launch-by-name.
import { readdir, readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";

/** The XDG application folders, most specific first. */
export function applicationDirs(env = process.env) {
  const dataHome = env.XDG_DATA_HOME || join(homedir(), ".local/share");
  const dataDirs = (env.XDG_DATA_DIRS || "/usr/local/share:/usr/share").split(":").filter(Boolean);
  return [dataHome, ...dataDirs].map((dir) => join(dir, "applications"));
}

/** Parses the [Desktop Entry] group of a .desktop file. */
export function parseDesktopEntry(text) {
  const entry = {};
  let inGroup = false;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("[")) {
      inGroup = line === "[Desktop Entry]";
      continue;
    }
    const eq = line.indexOf("=");
    if (!inGroup || eq < 0 || line.startsWith("#")) continue;
    const key = line.slice(0, eq).trim();
    if (!(key in entry)) entry[key] = line.slice(eq + 1).trim();
  }
  return entry;
}

/** Every visible application: {name, id, command}. */
export async function listApplications(env = process.env) {
  const seen = new Map();
  for (const dir of applicationDirs(env)) {
    let files = [];
    try {
      files = await readdir(dir);
    } catch {
      continue;
    }
    for (const file of files) {
      if (!file.endsWith(".desktop") || seen.has(file)) continue;
      let entry;
      try {
        entry = parseDesktopEntry(await readFile(join(dir, file), "utf8"));
      } catch {
        continue;
      }
      if (!entry.Name || !entry.Exec || entry.NoDisplay === "true" || entry.Hidden === "true") continue;
      if (entry.Type && entry.Type !== "Application") continue;
      const command = entry.Exec.replace(/%[fFuUdDnNickvm]/g, "").replace(/%%/g, "%").trim();
      seen.set(file, { name: entry.Name, id: file.replace(/\.desktop$/, ""), command });
    }
  }
  return [...seen.values()];
}

/** The application named `name` (by Name or desktop file id, case-insensitive), or null. */
export async function findApplication(name, env = process.env) {
  const wanted = String(name).toLowerCase();
  const apps = await listApplications(env);
  return apps.find((a) => a.name.toLowerCase() === wanted) ??
    apps.find((a) => a.id.toLowerCase() === wanted) ?? null;
}
