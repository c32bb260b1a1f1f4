/** Server configuration: parsed once from flags and environment (flags win) into a frozen object. */
import { parseArgs } from "node:util";
import { z } from "zod";
import { DEFAULT_TLS_NAMES, parseTlsNames, type TlsName } from "./tls/names.ts";

/** Where the server keeps its data unless told otherwise. */
export const DEFAULT_DATA_DIR = "./.data";

/**
 * The largest WebSocket message Deno's runtime hands to the server: 64 MiB − 1 byte. A larger one makes the
 * runtime drop the socket ("Frame too large") before any code sees it, so no ERROR can be sent; the frame
 * limit may not exceed it.
 */
export const RUNTIME_MAX_MESSAGE_BYTES = 64 * 1024 * 1024 - 1;

const Int = (min: number) => z.coerce.number().int().min(min);

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
});

/** The server's configuration. */
export type ServerConfig = Readonly<z.infer<typeof ConfigSchema>>;

/** Flag name, config key and environment variable of each setting. */
const SETTINGS = [
  ["port", "port", "ALIEN3_PORT"],
  ["host", "host", "ALIEN3_HOST"],
  ["data-dir", "dataDir", "ALIEN3_DATA_DIR"],
  ["tls-cert", "tlsCert", "ALIEN3_TLS_CERT"],
  ["tls-key", "tlsKey", "ALIEN3_TLS_KEY"],
  ["tls-self-signed", "tlsSelfSigned", "ALIEN3_TLS_SELF_SIGNED"],
  ["heartbeat-interval-ms", "heartbeatIntervalMs", "ALIEN3_HEARTBEAT_INTERVAL_MS"],
  ["heartbeat-timeout-ms", "heartbeatTimeoutMs", "ALIEN3_HEARTBEAT_TIMEOUT_MS"],
  ["resume-grace-ms", "resumeGraceMs", "ALIEN3_RESUME_GRACE_MS"],
  ["handshake-timeout-ms", "handshakeTimeoutMs", "ALIEN3_HANDSHAKE_TIMEOUT_MS"],
  ["max-frame-bytes", "maxFrameBytes", "ALIEN3_MAX_FRAME_BYTES"],
  ["max-json-bytes", "maxJsonBytes", "ALIEN3_MAX_JSON_BYTES"],
  ["max-messages-per-second", "maxMessagesPerSecond", "ALIEN3_MAX_MESSAGES_PER_SECOND"],
  ["max-artifact-bytes", "maxArtifactBytes", "ALIEN3_MAX_ARTIFACT_BYTES"],
  ["max-step-frames", "maxStepFrames", "ALIEN3_MAX_STEP_FRAMES"],
  ["log", "log", "ALIEN3_LOG"],
  ["llm-base-url", "llmBaseUrl", "ALIEN3_LLM_BASE_URL"],
  ["llm-model", "llmModel", "ALIEN3_LLM_MODEL"],
  ["llm-api-key", "llmApiKey", "ALIEN3_LLM_API_KEY"],
  ["llm-concurrency", "llmConcurrency", "ALIEN3_LLM_CONCURRENCY"],
  ["llm-timeout-ms", "llmTimeoutMs", "ALIEN3_LLM_TIMEOUT_MS"],
  ["agent-max-steps", "agentMaxSteps", "ALIEN3_AGENT_MAX_STEPS"],
  ["agent-max-tokens", "agentMaxTokens", "ALIEN3_AGENT_MAX_TOKENS"],
] as const;

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
      options: Object.fromEntries(SETTINGS.map(([flag]) => [flag, { type: "string" as const }])),
      strict: true,
    }).values as Record<string, string | undefined>;
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const raw: Record<string, string> = {};
  for (const [flag, key, variable] of SETTINGS) {
    const value = values[flag] ?? env(variable);
    if (value !== undefined) raw[key] = value;
  }
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const setting = SETTINGS.find(([, key]) => key === issue.path[0]);
    throw new ConfigError(`Invalid --${setting?.[0] ?? issue.path.join(".")}: ${issue.message}`);
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
