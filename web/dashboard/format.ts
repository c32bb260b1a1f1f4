/** Small formatters for the dashboard (times, durations, sizes); pure. */

/** `1.2 s`, `3 min 4 s`, `250 ms`. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** A wall-clock time: `14:03:07` today, else the date and time. */
export function clock(ms: number | null | undefined, nowMs: number = Date.now()): string {
  if (ms === null || ms === undefined) return "—";
  const date = new Date(ms);
  const time = date.toLocaleTimeString([], { hour12: false });
  return new Date(nowMs).toDateString() === date.toDateString()
    ? time
    : `${date.toISOString().slice(0, 10)} ${time}`;
}

/** `1.5 KB`, `12 MB`. */
export function bytes(count: number): string {
  if (count < 1000) return `${count} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = count;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** A round trip in ms with sensible precision. */
export function rtt(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

/** A step's arguments in one short line: `click x=10 y=20`. */
export function stepLine(type: string, args: unknown, maxChars = 80): string {
  const parts = [type];
  if (args && typeof args === "object") {
    for (const [key, value] of Object.entries(args as Record<string, unknown>)) {
      parts.push(`${key}=${JSON.stringify(value)}`);
    }
  }
  const line = parts.join(" ");
  return line.length > maxChars ? `${line.slice(0, maxChars - 1)}…` : line;
}

/** Whether a node or DAG state is final. */
export function isFinal(state: string): boolean {
  return state === "succeeded" || state === "failed" || state === "skipped" || state === "cancelled";
}
