/** What a command of the operator CLI is and what it runs with. */
import type { FlagSpec } from "../shared/flags.ts";
import type { Api } from "./api.ts";

/** Exit codes: 0 done, 1 a failed DAG or a refusal or error from the server, 2 bad usage, 130 Ctrl-C. */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** The CLI's surroundings: output, time, files. Commands never touch `Deno` directly. */
export interface Io {
  /** Writes a line to stdout. */
  out(line: string): void;
  /** Writes a line to stderr. */
  err(line: string): void;
  /** Writes text to stdout as is (terminal redraws). */
  write(text: string): void;
  /** Writes bytes to stdout. */
  writeBytes(bytes: Uint8Array): void;
  /** Whether stdout is a terminal. */
  isTerminal: boolean;
  /** The terminal's width in columns (80 when unknown). */
  columns(): number;
  nowMs(): number;
  readTextFile(path: string): Promise<string>;
  writeFile(path: string, bytes: Uint8Array): Promise<void>;
  /** Calls `callback` every `ms` until the returned function is called. */
  every(ms: number, callback: () => void): () => void;
  /** Calls `callback` once after `ms` unless the returned function is called first. */
  after(ms: number, callback: () => void): () => void;
}

/** What a command runs with. */
export interface CommandContext {
  api: Api;
  io: Io;
  /** Positional arguments after the command's words. */
  args: string[];
  /** Flag values by long name. */
  values: Readonly<Record<string, string | boolean | undefined>>;
  /** Aborted on Ctrl-C. */
  signal: AbortSignal;
}

/** One command: its words, arguments and flags (the table its parser and `--help` share) and its code. */
export interface Command {
  /** `["dag", "run"]`. */
  words: readonly string[];
  /** Its arguments as usage shows them: `FILE`. */
  args: string;
  summary: string;
  /** Longer help lines, shown by `--help`. */
  details?: readonly string[];
  flags: readonly FlagSpec[];
  /** How many positional arguments it takes. */
  minArgs: number;
  maxArgs: number;
  run(context: CommandContext): Promise<number>;
}

/** `--json`: print the server's JSON instead of text. */
export const JSON_FLAG: FlagSpec = { name: "json", type: "boolean", description: "Print the server's JSON" };
