/**
 * The operator CLI: `deno task a3 COMMAND [ARGS] [FLAGS]`, over the server's REST API. Every command takes
 * `--server URL` (ALIEN3_SERVER) and `--token T` (ALIEN3_TOKEN), else the config file. Exit codes: 0 done,
 * 1 a failed DAG or a refusal or error from the server, 2 bad usage, 130 Ctrl-C.
 */
import { parseArgs } from "node:util";
import { formatHelp, HELP_FLAG, parseArgsOptions, stringFlag, wantsHelp } from "../shared/flags.ts";
import { Api, ApiError } from "./api.ts";
import { type Command, EXIT, type Io } from "./command.ts";
import { type ConfigSources, GLOBAL_FLAGS, resolveConnection, UsageError } from "./config.ts";
import { DAG_COMMANDS } from "./dags.ts";
import { DEVICE_COMMANDS } from "./devices.ts";
import { EVENT_COMMANDS } from "./events.ts";
import { KEY_COMMANDS } from "./keys.ts";

/** Every command, in the order help lists them. */
export const COMMANDS: readonly Command[] = [
  ...DEVICE_COMMANDS,
  ...DAG_COMMANDS,
  ...EVENT_COMMANDS,
  ...KEY_COMMANDS,
];

const PROGRAM = "deno task a3";

const EXIT_NOTES = [
  "Exit codes: 0 done; 1 a failed or cancelled DAG (dag run --watch), or a refusal or error from the server;",
  "2 bad usage (flags, arguments, config); 130 interrupted (Ctrl-C).",
];

/** `a3 --help`. */
export function topHelp(): string {
  return formatHelp({
    usage: [`${PROGRAM} COMMAND [ARGS] [FLAGS]`],
    summary: "The ALIEN3 operator CLI: devices, DAGs, events, actions, frames and keys over the REST API.",
    commands: COMMANDS.map((c) => [[...c.words, c.args].filter(Boolean).join(" "), c.summary] as const),
    flags: [{ title: "Global flags (every command)", flags: [...GLOBAL_FLAGS, HELP_FLAG] }],
    notes: [
      "Server and token: a flag wins over its environment variable, which wins over the config file,",
      'a JSON object {"server": "http://host:8080", "token": "a3o_…"}.',
      `Run '${PROGRAM} COMMAND --help' for a command's arguments and flags.`,
      ...EXIT_NOTES,
    ],
  });
}

/** `a3 dag --help`: the commands of a group. */
function groupHelp(words: readonly string[]): string {
  const members = COMMANDS.filter((c) => words.every((word, i) => c.words[i] === word));
  return formatHelp({
    usage: [`${PROGRAM} ${words.join(" ")} COMMAND [ARGS] [FLAGS]`],
    commands: members.map((
      c,
    ) => [[...c.words.slice(words.length), c.args].filter(Boolean).join(" "), c.summary]),
    flags: [{ title: "Global flags", flags: [...GLOBAL_FLAGS, HELP_FLAG] }],
    notes: [`Run '${PROGRAM} ${words.join(" ")} COMMAND --help' for a command's flags.`, ...EXIT_NOTES],
  });
}

/** `a3 dag run --help`. */
export function commandHelp(command: Command): string {
  return formatHelp({
    usage: [[PROGRAM, ...command.words, command.args, "[FLAGS]"].filter(Boolean).join(" ")],
    summary: [`${command.summary[0].toUpperCase()}${command.summary.slice(1)}.`, ...(command.details ?? [])]
      .join("\n"),
    flags: [
      { title: "Flags", flags: command.flags },
      { title: "Global flags", flags: [...GLOBAL_FLAGS, HELP_FLAG] },
    ],
    notes: EXIT_NOTES,
  });
}

const GLOBAL_VALUE_FLAGS = new Set(GLOBAL_FLAGS.filter((f) => f.type === "string").map((f) => `--${f.name}`));

/** The command the words in `args` name, the words matched, and the arguments left for its parser. */
export function findCommand(
  args: readonly string[],
): { command: Command | null; words: string[]; rest: string[]; unknown: string | null } {
  const words: string[] = [];
  const rest: string[] = [];
  let command: Command | null = null;
  let unknown: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      rest.push(...args.slice(i));
      break;
    }
    if (arg.startsWith("-") && arg !== "-") {
      rest.push(arg);
      if (GLOBAL_VALUE_FLAGS.has(arg) && i + 1 < args.length) rest.push(args[++i]);
      continue;
    }
    if (command !== null || unknown !== null) {
      rest.push(arg);
      continue;
    }
    const candidate = [...words, arg];
    const matches = COMMANDS.filter((c) => candidate.every((word, j) => c.words[j] === word));
    if (matches.length === 0) {
      unknown = arg;
      continue;
    }
    words.push(arg);
    command = matches.find((c) => c.words.length === candidate.length) ?? null;
  }
  return { command, words, rest, unknown };
}

/** Runs the CLI; returns the exit code. */
export async function main(
  args: readonly string[],
  io: Io,
  sources: ConfigSources,
  signal: AbortSignal,
): Promise<number> {
  const { command, words, rest, unknown } = findCommand(args);
  if (wantsHelp(args) && unknown === null) {
    io.out(
      (command !== null ? commandHelp(command) : words.length > 0 ? groupHelp(words) : topHelp()).trimEnd(),
    );
    return EXIT.ok;
  }
  const usage = (message: string) => {
    const where = command?.words.join(" ") ?? words.join(" ");
    io.err(`error: ${message}`);
    io.err(`Run '${PROGRAM}${where ? ` ${where}` : ""} --help' for usage.`);
    return EXIT.usage;
  };
  if (command === null) {
    if (unknown !== null) {
      const scope = words.length > 0 ? `${words.join(" ")} command` : "command";
      return usage(`Unknown ${scope} ${JSON.stringify(unknown)}`);
    }
    if (words.length > 0) {
      io.err(groupHelp(words).trimEnd());
      return EXIT.usage;
    }
    io.err(topHelp().trimEnd());
    return EXIT.usage;
  }
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    const parsed = parseArgs({
      args: rest,
      options: parseArgsOptions([...GLOBAL_FLAGS, ...command.flags]),
      allowPositionals: true,
      strict: true,
    });
    values = parsed.values as Record<string, string | boolean | undefined>;
    positionals = parsed.positionals;
  } catch (error) {
    return usage((error as Error).message);
  }
  if (positionals.length < command.minArgs || positionals.length > command.maxArgs) {
    const expected = command.args === "" ? "no arguments" : command.args;
    return usage(`${command.words.join(" ")} takes ${expected}, got ${positionals.length}`);
  }
  let connection;
  try {
    connection = resolveConnection({
      server: stringFlag(values, "server"),
      token: stringFlag(values, "token"),
      config: stringFlag(values, "config"),
    }, sources);
  } catch (error) {
    if (error instanceof UsageError) return usage(error.message);
    throw error;
  }
  const api = new Api({ server: connection.server, token: connection.token });
  try {
    return await command.run({ api, io, args: positionals, values, signal });
  } catch (error) {
    if (signal.aborted) {
      io.err(error instanceof ApiError ? error.message : "Interrupted.");
      return EXIT.interrupted;
    }
    if (error instanceof UsageError) return usage(error.message);
    if (!(error instanceof ApiError)) throw error;
    const status = error.code !== null ? ` (${error.code}, HTTP ${error.status})` : "";
    io.err(`error: ${error.message}${status}`);
    // One detail is the message itself; several are listed, one rule each.
    if (Array.isArray(error.details) && error.details.length > 1) {
      for (const detail of error.details) {
        io.err(
          `  - ${
            typeof detail === "object" && detail !== null && "message" in detail
              ? detail.message
              : JSON.stringify(detail)
          }`,
        );
      }
    }
    if (error.code === "unauthorized") {
      io.err(
        `hint: the token came from ${connection.tokenFrom}; create an operator token with ` +
          "'deno task keys create --scope operator --name NAME' on the server",
      );
    } else if (error.code === "wrong-scope") {
      io.err(
        `hint: the token from ${connection.tokenFrom} is a device key; the CLI needs an operator token (a3o_…)`,
      );
    } else if (error.code === null && error.status === null && /Cannot reach/.test(error.message)) {
      io.err(`hint: the server came from ${connection.serverFrom}; is it running there?`);
    }
    return EXIT.failed;
  }
}

/**
 * A path as the operator meant it: `deno task` runs in the project's folder, so a relative path is taken
 * from the folder the task was started in (`INIT_CWD`).
 */
function fromCallerDir(path: string): string {
  const base = Deno.env.get("INIT_CWD");
  return path === "-" || path.startsWith("/") || base === undefined || Deno.build.os === "windows"
    ? path
    : `${base}/${path}`;
}

/** The real surroundings: Deno's stdout and stderr, files, timers. */
function denoIo(): Io {
  const encoder = new TextEncoder();
  const writeAll = (file: { writeSync(bytes: Uint8Array): number }, bytes: Uint8Array) => {
    try {
      for (let offset = 0; offset < bytes.length;) offset += file.writeSync(bytes.subarray(offset));
    } catch (error) {
      // The reader went away (`a3 events | head`): nothing more can be said.
      if (error instanceof Deno.errors.BrokenPipe) Deno.exit(EXIT.ok);
      throw error;
    }
  };
  return {
    out: (line) => writeAll(Deno.stdout, encoder.encode(`${line}\n`)),
    err: (line) => writeAll(Deno.stderr, encoder.encode(`${line}\n`)),
    write: (text) => writeAll(Deno.stdout, encoder.encode(text)),
    writeBytes: (bytes) => writeAll(Deno.stdout, bytes),
    isTerminal: Deno.stdout.isTerminal(),
    columns: () => {
      try {
        return Deno.consoleSize().columns || 80;
      } catch {
        return 80;
      }
    },
    nowMs: () => Date.now(),
    readTextFile: (path) =>
      path === "-" ? new Response(Deno.stdin.readable).text() : Deno.readTextFile(fromCallerDir(path)),
    writeFile: (path, bytes) => Deno.writeFile(fromCallerDir(path), bytes),
    every: (ms, callback) => {
      const timer = setInterval(callback, ms);
      return () => clearInterval(timer);
    },
    after: (ms, callback) => {
      const timer = setTimeout(callback, ms);
      return () => clearTimeout(timer);
    },
  };
}

if (import.meta.main) {
  const interrupt = new AbortController();
  // The first Ctrl-C lets the command end cleanly (a watch says the DAG keeps running); a second one exits.
  Deno.addSignalListener(
    "SIGINT",
    () => interrupt.signal.aborted ? Deno.exit(EXIT.interrupted) : interrupt.abort(),
  );
  const sources: ConfigSources = {
    env: (name) => Deno.env.get(name),
    readFile: (path) => {
      try {
        return Deno.readTextFileSync(fromCallerDir(path));
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) return null;
        throw new UsageError(`Cannot read config file ${path}: ${(error as Error).message}`);
      }
    },
  };
  Deno.exit(await main(Deno.args, denoIo(), sources, interrupt.signal));
}
