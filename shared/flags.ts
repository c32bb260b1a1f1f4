/**
 * Command-line flags as one table per program: the parser reads its names and types from it and `--help` is
 * generated from it, with each flag's default and environment variable, so the help cannot go stale.
 */

/** One command-line flag. */
export interface FlagSpec {
  /** The long name without dashes: `data-dir` for `--data-dir`. */
  readonly name: string;
  /** A one-letter alias: `o` for `-o`. */
  readonly short?: string;
  /** A `boolean` flag takes no value. */
  readonly type: "string" | "boolean";
  /** The value's placeholder in help, e.g. `DIR` (string flags; `VALUE` when absent). */
  readonly value?: string;
  /** The environment variable read when the flag is absent. */
  readonly env?: string;
  /** The default as help shows it; absent when there is none. */
  readonly default?: string;
  /** What the flag does, one line. */
  readonly description: string;
}

/** The options object `node:util`'s `parseArgs` takes for these flags. */
export function parseArgsOptions(
  flags: readonly FlagSpec[],
): Record<string, { type: "string" | "boolean"; short?: string }> {
  return Object.fromEntries(
    flags.map((
      flag,
    ) => [flag.name, flag.short ? { type: flag.type, short: flag.short } : { type: flag.type }]),
  );
}

/** Whether the arguments ask for help: `--help` or `-h` anywhere before a `--`. */
export function wantsHelp(args: readonly string[]): boolean {
  for (const arg of args) {
    if (arg === "--") return false;
    if (arg === "--help" || arg === "-h") return true;
  }
  return false;
}

/** The flag as help names it: `-o, --output FILE`. */
export function flagSignature(flag: FlagSpec): string {
  const long = `--${flag.name}${flag.type === "string" ? ` ${flag.value ?? "VALUE"}` : ""}`;
  return flag.short ? `-${flag.short}, ${long}` : `    ${long}`;
}

/** Aligned help lines for `flags`: signature, description, then `(default: …; env: …)` where known. */
export function formatFlags(flags: readonly FlagSpec[]): string[] {
  const width = Math.max(0, ...flags.map((flag) => flagSignature(flag).length));
  return flags.map((flag) => {
    const notes = [
      flag.default !== undefined ? `default: ${flag.default}` : null,
      flag.env !== undefined ? `env: ${flag.env}` : null,
    ].filter((note) => note !== null);
    const suffix = notes.length > 0 ? ` (${notes.join("; ")})` : "";
    return `  ${flagSignature(flag).padEnd(width)}  ${flag.description}${suffix}`;
  });
}

/** A program's or a command's help. */
export interface HelpText {
  /** Usage lines, without the `Usage:` prefix. */
  usage: readonly string[];
  /** A sentence or two on what it does. */
  summary?: string;
  /** Sub-commands: name (with its arguments) and one line each. */
  commands?: ReadonlyArray<readonly [string, string]>;
  /** Flag groups in order, each with a title (`Flags`, `Global flags`). */
  flags?: ReadonlyArray<{ title: string; flags: readonly FlagSpec[] }>;
  /** Closing lines (exit codes, examples). */
  notes?: readonly string[];
}

/** The help text, ending with a newline. */
export function formatHelp(help: HelpText): string {
  const lines: string[] = [];
  const [first, ...rest] = help.usage;
  lines.push(`Usage: ${first}`, ...rest.map((line) => `       ${line}`));
  if (help.summary !== undefined) lines.push("", help.summary);
  if (help.commands !== undefined && help.commands.length > 0) {
    const width = Math.max(...help.commands.map(([name]) => name.length));
    lines.push("", "Commands:", ...help.commands.map(([name, text]) => `  ${name.padEnd(width)}  ${text}`));
  }
  for (const group of help.flags ?? []) {
    if (group.flags.length === 0) continue;
    lines.push("", `${group.title}:`, ...formatFlags(group.flags));
  }
  if (help.notes !== undefined && help.notes.length > 0) lines.push("", ...help.notes);
  return `${lines.join("\n")}\n`;
}

/** `-h, --help`, listed in every program's help. */
export const HELP_FLAG: FlagSpec = {
  name: "help",
  short: "h",
  type: "boolean",
  description: "Show this help",
};

/** A string flag's value from parsed values (undefined when absent or not a string). */
export function stringFlag(values: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const value = values[name];
  return typeof value === "string" ? value : undefined;
}
