/** Parses the client's command line into a frozen, validated options object. */
import { parseArgs } from "node:util";
import { z } from "zod";
import { type FlagSpec, formatHelp, HELP_FLAG, parseArgsOptions } from "../shared/flags.ts";
import { MAX_TASKS_PER_DEVICE } from "../shared/protocol/mod.ts";

/**
 * Tasks a device runs at once unless `--max-tasks` says otherwise. Tasks are mostly waiting (on server-side
 * steps, on file transfers) and GUI work is one at a time regardless, so a few share a device well.
 */
export const DEFAULT_MAX_TASKS = 4;

const OptionsSchema = z.object({
  connect: z.string().regex(/^wss?:\/\/[^\s]+$/, "--connect takes a ws:// or wss:// URL"),
  key: z.string().min(1, "--key is required (or set ALIEN3_KEY)"),
  name: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, "--name uses letters, digits, '.', '_' or '-'"),
  tags: z.array(z.string().min(1).max(64)).max(64),
  filesDir: z.string().min(1),
  /** Where the client keeps what it must remember (the key an enrollment minted for it). */
  dataDir: z.string().min(1),
  log: z.enum(["text", "json"]),
  maxTasks: z.coerce.number().int().min(1).max(MAX_TASKS_PER_DEVICE),
  /** Run programs the server asks for (`run` steps). Off unless `--allow-run` (or ALIEN3_ALLOW_RUN=1). */
  allowRun: z.boolean(),
  /** Send frames over a WebRTC data channel (werift), STREAM_FRAME as fallback: `--webrtc` / ALIEN3_WEBRTC=1. */
  webrtc: z.boolean(),
  /** PEM file of the CA(s) that issued the server's certificate, trusted instead of the system's: `--ca-file`. */
  caFile: z.string().min(1).optional(),
  /** SHA-256 of the server certificate to accept as is (`AB:CD:…`): `--insecure-fingerprint`. */
  insecureFingerprint: z.string().transform((text, ctx) => {
    const fingerprint = normalizeFingerprint(text);
    if (fingerprint === null) {
      ctx.addIssue({
        code: "custom",
        message: "expected the SHA-256 fingerprint the server printed: 64 hex digits, colons optional",
      });
    }
    return fingerprint ?? "";
  }).optional(),
});

/** The client's options. */
export type ClientOptions = Readonly<z.infer<typeof OptionsSchema>>;

const USAGE_LINES = [
  "deno task client --connect ws(s)://host:8080 --key KEY [--name N] [--tags a,b]",
  "  [--files-dir DIR] [--data-dir DIR] [--log text|json] [--max-tasks N] [--allow-run] [--webrtc]",
  "  [--ca-file PEM | --insecure-fingerprint SHA256]",
];

/** The usage text (the first lines of `--help`), shown after a flag error. */
export const USAGE = formatHelp({ usage: USAGE_LINES }).trimEnd();

/** Where the defaults that depend on the machine come from. */
export interface ClientDefaults {
  hostname: string;
  os: string;
}

/** The device name a host name gives: characters a name may not use become `-`. */
function nameOf(hostname: string): string {
  return hostname.replace(/[^A-Za-z0-9._-]/g, "-").slice(0, 100);
}

/** The client's flags, with this machine's defaults: the table the parser reads and `--help` shows. */
export function clientFlags(env: (name: string) => string | undefined, defaults: ClientDefaults): FlagSpec[] {
  return [
    {
      name: "connect",
      type: "string",
      value: "URL",
      env: "ALIEN3_CONNECT",
      description: "The server's ws:// or wss:// URL (without a path: /v1/device); required",
    },
    {
      name: "key",
      type: "string",
      value: "KEY",
      env: "ALIEN3_KEY",
      description: "Device key (a3d_…) or enrollment key (a3e_…); required",
    },
    {
      name: "name",
      type: "string",
      value: "NAME",
      env: "ALIEN3_NAME",
      default: nameOf(defaults.hostname),
      description: "Device name: letters, digits, '.', '_' or '-'",
    },
    {
      name: "tags",
      type: "string",
      value: "a,b",
      env: "ALIEN3_TAGS",
      default: "none",
      description: "Comma-separated tags DAG targets can ask for",
    },
    {
      name: "files-dir",
      type: "string",
      value: "DIR",
      env: "ALIEN3_FILES_DIR",
      default: defaultFilesDir(env, defaults.os),
      description:
        "Where artifacts land and launched apps and `run` steps start; default: files in --data-dir",
    },
    {
      name: "data-dir",
      type: "string",
      value: "DIR",
      env: "ALIEN3_CLIENT_DATA_DIR",
      default: defaultDataDir(env, defaults.os),
      description: "Where the client keeps the key an enrollment key minted for it",
    },
    {
      name: "log",
      type: "string",
      value: "text|json",
      default: "text",
      description: "Status output on stderr",
    },
    {
      name: "max-tasks",
      type: "string",
      value: "N",
      env: "ALIEN3_MAX_TASKS",
      default: String(DEFAULT_MAX_TASKS),
      description: `Tasks run at once, 1 to ${MAX_TASKS_PER_DEVICE}; GUI work is one at a time regardless`,
    },
    {
      name: "allow-run",
      type: "boolean",
      env: "ALIEN3_ALLOW_RUN",
      default: "off",
      description: "Run programs the server asks for (`run` steps); env 1, true or yes",
    },
    {
      name: "webrtc",
      type: "boolean",
      env: "ALIEN3_WEBRTC",
      default: "off",
      description: "Send frames on a WebRTC data channel, STREAM_FRAME as fallback; env 1, true or yes",
    },
    {
      name: "ca-file",
      type: "string",
      value: "PEM",
      env: "ALIEN3_CA_FILE",
      default: "the system's CAs",
      description: "Trust the server certificate's CA(s) in this PEM file instead; wss:// only",
    },
    {
      name: "insecure-fingerprint",
      type: "string",
      value: "SHA256",
      env: "ALIEN3_INSECURE_FINGERPRINT",
      description:
        "Accept exactly the server certificate with this SHA-256 fingerprint (AB:CD:… or hex), chain and name " +
        "unchecked; wss:// only, not with --ca-file",
    },
  ];
}

/** `deno task client --help`, with this machine's defaults. */
export function clientHelp(env: (name: string) => string | undefined, defaults: ClientDefaults): string {
  return formatHelp({
    usage: USAGE_LINES,
    summary: "A device: joins the server, reports its capabilities and executes actions and DAG nodes. " +
      "Flags win over environment variables.",
    flags: [{ title: "Flags", flags: [...clientFlags(env, defaults), HELP_FLAG] }],
    notes: [
      "Exit codes: 0 stopped by SIGINT/SIGTERM, 2 bad flags (or an unreadable --ca-file), 3 refused by the server (key, version), 4 the server was never reached, " +
      "5 the server's TLS refused before the first connection.",
      "With an enrollment key the client stores the key the server mints for it in --data-dir and joins with " +
      "it from then on; refused because another client is connected as the same device, it keeps retrying.",
    ],
  });
}

/** The default data directory: `alien3` under the user's data directory. */
export function defaultDataDir(env: (name: string) => string | undefined, os: string): string {
  const home = env("HOME") ?? env("USERPROFILE") ?? ".";
  if (os === "windows") return `${env("LOCALAPPDATA") ?? `${home}\\AppData\\Local`}\\alien3`;
  if (os === "darwin") return `${home}/Library/Application Support/alien3`;
  return `${env("XDG_DATA_HOME") ?? `${home}/.local/share`}/alien3`;
}

/** The default files directory: `files` in the data directory (`~/.local/share/alien3/files` on Linux). */
export function defaultFilesDir(
  env: (name: string) => string | undefined,
  os: string,
  dataDir?: string,
): string {
  return `${dataDir ?? defaultDataDir(env, os)}${os === "windows" ? "\\" : "/"}files`;
}

/** Parses `args`; the error message names the flag at fault. */
export function parseClientOptions(
  args: string[],
  env: (name: string) => string | undefined,
  defaults: ClientDefaults,
): { ok: true; options: ClientOptions } | { ok: false; message: string } {
  const flags = clientFlags(env, defaults);
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args, options: parseArgsOptions(flags), strict: true })
      .values as Record<string, string | boolean | undefined>;
  } catch (error) {
    return { ok: false, message: `${(error as Error).message}\n${USAGE}` };
  }
  // A flag wins over its environment variable, the one the flag table names (and --help shows).
  const fromEnv = (name: string) => {
    const variable = flags.find((flag) => flag.name === name)?.env;
    return variable === undefined ? undefined : env(variable);
  };
  const given = (name: string) => (values[name] as string | undefined) ?? fromEnv(name);
  const enabled = (name: string) =>
    values[name] === true || ["1", "true", "yes"].includes(fromEnv(name) ?? "");
  const dataDir = given("data-dir");
  const parsed = OptionsSchema.safeParse({
    connect: given("connect") ?? "",
    key: given("key") ?? "",
    name: given("name") ?? nameOf(defaults.hostname),
    tags: (given("tags") ?? "").split(",").map((t) => t.trim()).filter((t) => t !== ""),
    filesDir: given("files-dir") ?? defaultFilesDir(env, defaults.os, dataDir),
    dataDir: dataDir ?? defaultDataDir(env, defaults.os),
    log: given("log") ?? "text",
    maxTasks: given("max-tasks") ?? DEFAULT_MAX_TASKS,
    allowRun: enabled("allow-run"),
    webrtc: enabled("webrtc"),
    caFile: given("ca-file"),
    insecureFingerprint: given("insecure-fingerprint"),
  });
  if (!parsed.success) {
    // The options' keys are the flags' names in camelCase: `filesDir` is --files-dir.
    const issue = parsed.error.issues[0];
    const flag = `--${String(issue.path[0]).replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
    return { ok: false, message: `Invalid ${flag}: ${issue.message}\n${USAGE}` };
  }
  const { caFile, insecureFingerprint, connect } = parsed.data;
  if (caFile !== undefined && insecureFingerprint !== undefined) {
    return {
      ok: false,
      message: `Invalid --ca-file/--insecure-fingerprint: give one or the other\n${USAGE}`,
    };
  }
  if ((caFile !== undefined || insecureFingerprint !== undefined) && !connect.startsWith("wss:")) {
    const flag = caFile !== undefined ? "--ca-file" : "--insecure-fingerprint";
    return {
      ok: false,
      message: `Invalid ${flag}: only for a wss:// server (--connect is ${connect})\n${USAGE}`,
    };
  }
  return {
    ok: true,
    options: Object.freeze({ ...parsed.data, connect: deviceEndpoint(connect) }),
  };
}

/**
 * A SHA-256 fingerprint as upper-case hex pairs joined by colons (Node's `fingerprint256` form), from
 * `AB:CD:…`, plain hex, or OpenSSL's `sha256 Fingerprint=AB:…`; null when it is not 32 bytes of hex.
 */
export function normalizeFingerprint(text: string): string | null {
  const hex = text.trim().replace(/^sha-?256(\s*fingerprint)?\s*[:=]?\s*/i, "").replace(/[:\s]/g, "");
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return null;
  return hex.toUpperCase().match(/../g)!.join(":");
}

/** The device endpoint for a server URL: a bare `ws://host:port` gets the default path `/v1/device`. */
export function deviceEndpoint(url: string): string {
  const parsed = new URL(url);
  if (parsed.pathname === "/" || parsed.pathname === "") parsed.pathname = "/v1/device";
  return parsed.toString();
}
