/** Server configuration: parsed once from flags and environment (flags win) into a frozen object. */
import { parseArgs } from "node:util";
import { z } from "zod";
import { type FlagSpec, formatHelp, HELP_FLAG, parseArgsOptions } from "../shared/flags.ts";
import { DEFAULT_TLS_NAMES, parseTlsNames, type TlsName } from "./tls/names.ts";

/** Where the server keeps its data unless told otherwise. */
export const DEFAULT_DATA_DIR = "./.data";

/** `--data-dir` as the maintenance CLIs (keys, store) take it: the server's, with its variable and default. */
export const DATA_DIR_FLAG: FlagSpec = {
  name: "data-dir",
  type: "string",
  value: "DIR",
  env: "ALIEN3_DATA_DIR",
  default: DEFAULT_DATA_DIR,
  description: "The server's data dir",
};

/** A CLI's data dir: `--data-dir`, else `ALIEN3_DATA_DIR`, else the default; `from` names where it came from. */
export function cliDataDir(
  flag: string | undefined,
  env: (name: string) => string | undefined,
): { dataDir: string; from: "--data-dir" | "ALIEN3_DATA_DIR" | null } {
  if (flag !== undefined) return { dataDir: flag, from: "--data-dir" };
  const fromEnv = env("ALIEN3_DATA_DIR");
  return fromEnv === undefined
    ? { dataDir: DEFAULT_DATA_DIR, from: null }
    : { dataDir: fromEnv, from: "ALIEN3_DATA_DIR" };
}

/**
 * The largest WebSocket message Deno's runtime hands to the server: 64 MiB − 1 byte. A larger one makes the
 * runtime drop the socket ("Frame too large") before any code sees it, so no ERROR can be sent; the frame
 * limit may not exceed it.
 */
export const RUNTIME_MAX_MESSAGE_BYTES = 64 * 1024 * 1024 - 1;

const Int = (min: number) => z.coerce.number().int().min(min);

const DURATION_UNITS_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A duration such as `90s`, `30m`, `12h` or `7d` (or `0`), in milliseconds. */
const Duration = z.string().regex(/^(0|\d+(ms|s|m|h|d))$/, "takes a duration such as 30m, 12h or 7d, or 0")
  .transform((text) => {
    const [, amount, unit] = /^(\d+)([a-z]*)$/.exec(text)!;
    return Number(amount) * (unit === "" ? 0 : DURATION_UNITS_MS[unit as keyof typeof DURATION_UNITS_MS]);
  });

const ConfigSchema = z.object({
  port: Int(0).max(65535).default(8080),
  host: z.string().min(1).default("0.0.0.0"),
  dataDir: z.string().min(1).default(DEFAULT_DATA_DIR),
  tlsCert: z.string().min(1).optional(),
  tlsKey: z.string().min(1).optional(),
  /** Names of a certificate the server issues itself and keeps in `<data dir>/tls` (`--tls-self-signed`). */
  tlsSelfSigned: z.string().transform((list, ctx): TlsName[] => {
    const parsed = parseTlsNames(list);
    if (!parsed.ok) ctx.addIssue({ code: "custom", message: parsed.message });
    return parsed.ok ? parsed.names : [];
  }).optional(),
  heartbeatIntervalMs: Int(10).default(10_000),
  heartbeatTimeoutMs: Int(20).default(30_000),
  resumeGraceMs: Int(0).default(30_000),
  handshakeTimeoutMs: Int(10).default(10_000),
  maxFrameBytes: Int(1024).max(
    RUNTIME_MAX_MESSAGE_BYTES,
    `at most ${RUNTIME_MAX_MESSAGE_BYTES} bytes (64 MiB − 1): Deno drops larger WebSocket messages unread`,
  ).default(16 * 1024 * 1024),
  maxJsonBytes: Int(1024).default(1024 * 1024),
  // A device running a quick DAG sends ~3 messages per node plus acknowledgements; 200/s held one X device
  // to ~40 nodes/s where 1000/s lets it reach ~150 (bench/dag_flow_bench.ts), and a flood is still cut off.
  maxMessagesPerSecond: Int(1).default(1000),
  maxArtifactBytes: Int(1).default(256 * 1024 * 1024),
  // Frames of logged steps kept on disk in all (oldest deleted first); ~50-150 KB each at 1280 px.
  maxStepFrames: Int(0).default(2000),
  log: z.enum(["text", "json", "silent"]).default("text"),
  /** The model (OpenAI-compatible API); agent nodes and the planner need both URL and model. */
  llmBaseUrl: z.string().url().optional(),
  llmModel: z.string().min(1).max(200).optional(),
  llmApiKey: z.string().min(1).optional(),
  llmConcurrency: Int(1).max(64).default(4),
  llmTimeoutMs: Int(1000).default(120_000),
  /** An agent node's defaults when it sets none: actions, and tokens over the attempt. */
  agentMaxSteps: Int(1).default(30),
  agentMaxTokens: Int(1000).default(200_000),
  /** Offline devices unseen this long are forgotten (`--device-retention 7d`); 0 keeps them for ever. */
  deviceRetentionMs: Duration.default(7 * DURATION_UNITS_MS.d),
});

/** The server's configuration. */
export type ServerConfig = Readonly<z.infer<typeof ConfigSchema>>;

/** A setting: its flag (the one table `--help` is generated from) and its config key. */
type Setting = FlagSpec & { key: keyof z.infer<typeof ConfigSchema>; env: string; type: "string" };

const setting = (name: string, key: Setting["key"], value: string, description: string): Setting => ({
  name,
  key,
  type: "string",
  value,
  env: `ALIEN3_${name.toUpperCase().replaceAll("-", "_")}`,
  description,
});

/** Every setting: flag name, config key and environment variable (`--data-dir` ↔ `ALIEN3_DATA_DIR`). */
const SETTINGS: readonly Setting[] = [
  setting("port", "port", "N", "Port to listen on; 0 picks a free one"),
  setting("host", "host", "HOST", "Address to listen on"),
  setting("data-dir", "dataDir", "DIR", "The embedded store (SQLite), artifacts and step frames"),
  setting("tls-cert", "tlsCert", "FILE", "PEM certificate to serve HTTPS and WSS; needs --tls-key"),
  setting("tls-key", "tlsKey", "FILE", "PEM private key of --tls-cert"),
  setting(
    "tls-self-signed",
    "tlsSelfSigned",
    "NAME,…",
    `HTTPS and WSS with a certificate of its own for these names (CA in <data-dir>/tls); ` +
      `the flag alone means ${DEFAULT_TLS_NAMES}; not with --tls-cert`,
  ),
  setting("heartbeat-interval-ms", "heartbeatIntervalMs", "MS", "PING cadence"),
  setting("heartbeat-timeout-ms", "heartbeatTimeoutMs", "MS", "Silence after which a device is offline"),
  setting("resume-grace-ms", "resumeGraceMs", "MS", "How long a dropped device session waits to be resumed"),
  setting("handshake-timeout-ms", "handshakeTimeoutMs", "MS", "Time a device has to finish CONNECT → READY"),
  setting("max-frame-bytes", "maxFrameBytes", "BYTES", "Largest protocol frame, at most 64 MiB − 1"),
  setting("max-json-bytes", "maxJsonBytes", "BYTES", "Largest JSON payload of a frame"),
  setting(
    "max-messages-per-second",
    "maxMessagesPerSecond",
    "N",
    "Message rate per connection, bursts to 2×",
  ),
  setting("max-artifact-bytes", "maxArtifactBytes", "BYTES", "Largest artifact"),
  setting("max-step-frames", "maxStepFrames", "N", "Step frames kept on disk in all, oldest deleted first"),
  setting("log", "log", "text|json|silent", "Log format"),
  setting("llm-base-url", "llmBaseUrl", "URL", "OpenAI-compatible API for agent nodes; needs --llm-model"),
  setting("llm-model", "llmModel", "NAME", "The model agent nodes and the planner use"),
  setting("llm-api-key", "llmApiKey", "KEY", "Bearer key for the model API, where it needs one"),
  setting("llm-concurrency", "llmConcurrency", "N", "Model calls at once"),
  setting("llm-timeout-ms", "llmTimeoutMs", "MS", "One model call's limit (retries apart)"),
  setting("agent-max-steps", "agentMaxSteps", "N", "An agent node's action budget when it sets no maxSteps"),
  setting(
    "agent-max-tokens",
    "agentMaxTokens",
    "N",
    "An agent node's token budget when it sets no maxTokens",
  ),
  setting(
    "device-retention",
    "deviceRetentionMs",
    "DURATION",
    "Offline devices unseen this long are forgotten (90s, 30m, 12h, 7d); 0 keeps them for ever",
  ),
];

/** A duration in the largest unit that divides it: `7d`, `90s`, `0`. */
function shownDuration(ms: number): string {
  if (ms === 0) return "0";
  const units = Object.entries(DURATION_UNITS_MS).reverse();
  const [unit, size] = units.find(([, size]) => ms % size === 0)!;
  return `${ms / size}${unit}`;
}

/** A default as help shows it: byte sizes also in KiB or MiB. */
function shownDefault(key: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (key === "deviceRetentionMs" && typeof value === "number") return shownDuration(value);
  if (typeof value === "number" && key.endsWith("Bytes")) {
    const mib = value / (1024 * 1024);
    return Number.isInteger(mib) ? `${value} (${mib} MiB)` : String(value);
  }
  return String(value);
}

/** The server's flags with their defaults (read from the schema the parser uses), for `--help` and tests. */
export const SERVER_FLAGS: readonly FlagSpec[] = (() => {
  const defaults = ConfigSchema.parse({}) as Record<string, unknown>;
  return SETTINGS.map(({ key, ...flag }) => ({ ...flag, default: shownDefault(key, defaults[key]) }));
})();

/** `deno task server --help`. */
export function serverHelp(): string {
  return formatHelp({
    usage: ["deno task server [FLAGS]"],
    summary: "The ALIEN3 server: REST API, event stream and the device WebSocket at /v1/device. " +
      "Every flag has an environment variable; flags win.",
    flags: [{ title: "Flags", flags: [...SERVER_FLAGS, HELP_FLAG] }],
    notes: [
      "Exit codes: 0 after SIGINT/SIGTERM, 2 bad flags, 3 the store or data dir cannot be used.",
    ],
  });
}

/** A configuration error naming the flag at fault. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** Parses flags and environment; throws ConfigError naming the flag at fault. */
export function parseConfig(args: string[], env: (name: string) => string | undefined): ServerConfig {
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({
      args: withDefaultValue(args, "--tls-self-signed", DEFAULT_TLS_NAMES),
      options: parseArgsOptions(SETTINGS),
      strict: true,
    }).values as Record<string, string | undefined>;
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const raw: Record<string, string> = {};
  for (const { name, key, env: variable } of SETTINGS) {
    const value = values[name] ?? env(variable);
    if (value !== undefined) raw[key] = value;
  }
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const flag = SETTINGS.find(({ key }) => key === issue.path[0]);
    throw new ConfigError(`Invalid --${flag?.name ?? issue.path.join(".")}: ${issue.message}`);
  }
  const config = parsed.data;
  if ((config.llmBaseUrl === undefined) !== (config.llmModel === undefined)) {
    throw new ConfigError("Invalid --llm-base-url/--llm-model: give both or neither");
  }
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    throw new ConfigError("Invalid --tls-cert/--tls-key: give both or neither");
  }
  if (config.tlsSelfSigned !== undefined && config.tlsCert !== undefined) {
    throw new ConfigError("Invalid --tls-self-signed: give either it or --tls-cert/--tls-key, not both");
  }
  if (config.heartbeatTimeoutMs <= config.heartbeatIntervalMs) {
    throw new ConfigError("Invalid --heartbeat-timeout-ms: must exceed --heartbeat-interval-ms");
  }
  return Object.freeze(config);
}

/** `--flag` given without a value (last, or followed by another flag) becomes `--flag=value`. */
function withDefaultValue(args: string[], flag: string, value: string): string[] {
  return args.map((arg, i) =>
    arg === flag && (i === args.length - 1 || args[i + 1].startsWith("--")) ? `${flag}=${value}` : arg
  );
}
