/**
 * Where the CLI finds its server and token: `--server` / `--token` flags, then `ALIEN3_SERVER` /
 * `ALIEN3_TOKEN`, then the config file (`--config`, `ALIEN3_CONFIG`, or `~/.config/alien3/cli.json`, a JSON
 * object `{"server": "http://host:8080", "token": "a3o_…"}`), then the default server.
 */
import type { FlagSpec } from "../shared/flags.ts";

/** The server when nothing names one. */
export const DEFAULT_SERVER = "http://127.0.0.1:8080";

/** Flags every command takes. */
export const GLOBAL_FLAGS: readonly FlagSpec[] = [
  {
    name: "server",
    type: "string",
    value: "URL",
    env: "ALIEN3_SERVER",
    default: `the config file's "server", else ${DEFAULT_SERVER}`,
    description: "The server (http, https; ws and wss are read as http and https)",
  },
  {
    name: "token",
    type: "string",
    value: "TOKEN",
    env: "ALIEN3_TOKEN",
    default: `the config file's "token"`,
    description: "Operator token (a3o_…)",
  },
  {
    name: "config",
    type: "string",
    value: "FILE",
    env: "ALIEN3_CONFIG",
    default: "$XDG_CONFIG_HOME/alien3/cli.json or ~/.config/alien3/cli.json",
    description: "Config file",
  },
];

/** The server and token to use, and where each came from (for error hints). */
export interface Connection {
  server: string;
  token: string;
  serverFrom: string;
  tokenFrom: string;
}

/** A problem with the flags, variables or config file: the CLI exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** How the resolver reads its surroundings. */
export interface ConfigSources {
  env(name: string): string | undefined;
  /** The file's text, or null when it does not exist. */
  readFile(path: string): string | null;
}

/** The config file's path: `--config`, `ALIEN3_CONFIG`, then the XDG location; `explicit` when named. */
export function configPath(
  flag: string | undefined,
  env: (name: string) => string | undefined,
): { path: string | null; explicit: boolean } {
  const named = flag ?? nonEmpty(env("ALIEN3_CONFIG"));
  if (named !== undefined) return { path: named, explicit: true };
  const base = nonEmpty(env("XDG_CONFIG_HOME")) ??
    (nonEmpty(env("HOME")) === undefined ? undefined : `${env("HOME")}/.config`);
  return { path: base === undefined ? null : `${base}/alien3/cli.json`, explicit: false };
}

/** Resolves server and token: flag > environment > config file > default (the server only). */
export function resolveConnection(
  flags: { server?: string; token?: string; config?: string },
  sources: ConfigSources,
): Connection {
  const { path, explicit } = configPath(flags.config, sources.env);
  let file: { server?: string; token?: string } = {};
  if (path !== null) {
    const text = sources.readFile(path);
    if (text === null && explicit) throw new UsageError(`Cannot read config file ${path}: it does not exist`);
    if (text !== null) file = parseConfigFile(path, text);
  }
  const pick = (flag: string | undefined, variable: string, key: "server" | "token") => {
    if (flag !== undefined) return { value: flag, from: `--${key}` };
    const fromEnv = nonEmpty(sources.env(variable));
    if (fromEnv !== undefined) return { value: fromEnv, from: variable };
    if (file[key] !== undefined) return { value: file[key], from: `the config file ${path}` };
    return null;
  };
  const server = pick(flags.server, "ALIEN3_SERVER", "server") ??
    { value: DEFAULT_SERVER, from: "the default" };
  const token = pick(flags.token, "ALIEN3_TOKEN", "token");
  if (token === null) {
    throw new UsageError(
      `No operator token: pass --token, set ALIEN3_TOKEN, or put {"token": "a3o_…"} in ${
        path ?? "a config file (--config)"
      }`,
    );
  }
  return {
    server: serverUrl(server.value, server.from),
    token: token.value,
    serverFrom: server.from,
    tokenFrom: token.from,
  };
}

/** The base URL of a server: http(s) as given, ws(s) read as http(s), no trailing slash. */
export function serverUrl(value: string, from: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(
      `Invalid server ${JSON.stringify(value)} (from ${from}): not a URL, e.g. ${DEFAULT_SERVER}`,
    );
  }
  const scheme = { "http:": "http:", "https:": "https:", "ws:": "http:", "wss:": "https:" }[url.protocol];
  if (scheme === undefined) {
    throw new UsageError(`Invalid server ${value} (from ${from}): use http:// or https://`);
  }
  url.protocol = scheme;
  // A device URL (`…/v1/device`) names the same server.
  if (url.pathname === "/v1/device") url.pathname = "/";
  return url.toString().replace(/\/+$/, "");
}

function parseConfigFile(path: string, text: string): { server?: string; token?: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`Cannot read config file ${path}: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UsageError(`Cannot read config file ${path}: it must be a JSON object {"server", "token"}`);
  }
  const record = value as Record<string, unknown>;
  for (const key of ["server", "token"]) {
    if (record[key] !== undefined && typeof record[key] !== "string") {
      throw new UsageError(`Cannot read config file ${path}: "${key}" must be a string`);
    }
  }
  return { server: record.server as string | undefined, token: record.token as string | undefined };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}
