/** Text formatting for the CLI: aligned tables, durations, ages, short ids. */
import type { Capabilities } from "../shared/protocol/mod.ts";

/** Rows under a header, columns padded to the widest cell (the last column is not padded). */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] {
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] ?? "").length))
  );
  const line = (cells: readonly string[]) =>
    cells.map((cell, i) => i === cells.length - 1 ? cell : cell.padEnd(widths[i])).join("  ").trimEnd();
  return [line(header), ...rows.map(line)];
}

/** A duration: `850ms`, `4.2s`, `3m05s`, `2h10m`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const totalSeconds = Math.round(ms / 1000);
  if (totalSeconds < 3600) {
    return `${Math.floor(totalSeconds / 60)}m${String(totalSeconds % 60).padStart(2, "0")}s`;
  }
  const totalMinutes = Math.floor(totalSeconds / 60);
  return `${Math.floor(totalMinutes / 60)}h${String(totalMinutes % 60).padStart(2, "0")}m`;
}

/** How long ago `atMs` was, seen at `nowMs`: `now`, `12s ago`, `5m ago`; `never` for 0. */
export function ago(atMs: number | null, nowMs: number): string {
  if (atMs === null || atMs <= 0) return "never";
  const ms = nowMs - atMs;
  if (ms < 2000) return "now";
  if (ms < 60_000) return `${Math.round(ms / 1000)}s ago`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)}m ago`;
  if (ms < 86_400_000) return `${Math.round(ms / 3_600_000)}h ago`;
  return new Date(atMs).toISOString().slice(0, 10);
}

/** A local wall-clock time with milliseconds: `14:03:07.123`. */
export function clockTime(atMs: number): string {
  const date = new Date(atMs);
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${
    pad(date.getMilliseconds(), 3)
  }`;
}

/** `text` cut to `width` characters, ending in `…` when cut. */
export function truncate(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, Math.max(0, width - 1)).join("")}…`;
}

/** A value as compact JSON on one line, cut to `width`. */
export function compactJson(value: unknown, width = 120): string {
  return truncate(JSON.stringify(value) ?? "null", width);
}

/** A device's capabilities in a few words: `linux 1280x800 mouse+keyboard 12 apps run tags:a,b`. */
export function capabilitySummary(c: Capabilities | null): string {
  if (c === null) return "-";
  const input = [c.input?.mouse ? "mouse" : null, c.input?.keyboard ? "keyboard" : null].filter(Boolean);
  return [
    c.os?.platform,
    c.screens?.length ? c.screens.map((s) => `${s.width}x${s.height}`).join(",") : "headless",
    input.length > 0 ? input.join("+") : null,
    c.apps?.length ? `${c.apps.length} apps` : null,
    c.run ? "run" : null,
    c.maxTasks !== undefined ? `tasks:${c.maxTasks}` : null,
    c.tags?.length ? `tags:${c.tags.join(",")}` : null,
  ].filter((part) => part !== null && part !== undefined).join(" ");
}
