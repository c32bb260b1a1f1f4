/**
 * The server: `deno task server [--port 8080] [--host H] [--data-dir D] [--tls-cert C --tls-key K |
 * --tls-self-signed NAME,…]`. On first start with an empty data dir it creates an operator token and a device key and prints them once.
 * Exit codes: 0 after SIGINT/SIGTERM, 2 bad flags, 3 the store or data dir cannot be used (one line on
 * stderr naming the file and what to do).
 */
import { resolve } from "node:path";
import { wantsHelp } from "../shared/flags.ts";
import { ConfigError, parseConfig, serverHelp } from "./config.ts";
import { type RunningServer, startServer } from "./server.ts";
import { DEVICE_PATH } from "./http/app.ts";
import { databasePath } from "./store/db.ts";
import { StorageError, StoreOpenError, toStorageError } from "./store/errors.ts";
import { joinHost, selfSignedBanner } from "./tls/banner.ts";

/** The device client's default files dir on Linux, as the join command shows it. */
const DEFAULT_CLIENT_FILES_DIR = "~/.local/share/alien3/files";

/** The one line for a start-up failure an operator can act on, or null for a bug (rethrown). */
function startFailure(error: unknown, dataDir: string): string | null {
  if (error instanceof StoreOpenError) return error.message;
  if (error instanceof StorageError) {
    return `${error.message}; free space or fix ${dataDir}, then start again`;
  }
  if (error instanceof Deno.errors.PermissionDenied || error instanceof Deno.errors.NotFound) {
    return `Cannot use the data dir ${dataDir}: ${error.message}; make it writable or point --data-dir elsewhere`;
  }
  const code = (error as { code?: unknown }).code;
  if (code === "EROFS" || code === "ENOSPC" || code === "EACCES") {
    return `Cannot use the data dir ${dataDir}: ${(error as Error).message}; make it writable or free space`;
  }
  return null;
}

async function main(): Promise<number> {
  if (wantsHelp(Deno.args)) {
    console.log(serverHelp().trimEnd());
    return 0;
  }
  let config;
  try {
    config = parseConfig(Deno.args, (name) => Deno.env.get(name));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`error: ${error.message}`);
    return 2;
  }
  let server: RunningServer | null = null;
  let created: { operator: string; device: string } | null = null;
  try {
    server = await startServer(config);
    if (server.keys.list().length === 0) {
      created = {
        operator: server.keys.create("operator", "first-operator").secret,
        device: server.keys.create("device", "first-device").secret,
      };
    }
  } catch (error) {
    await server?.close();
    const line = startFailure(toStorageError(error, databasePath(config.dataDir)) ?? error, config.dataDir);
    if (line === null) throw error;
    console.error(`error: ${line}`);
    return 3;
  }
  // Listening for signals before anything is printed: whoever reads "listening on" may stop it at once.
  const stopped = Promise.withResolvers<void>();
  const stop = () => stopped.resolve();
  Deno.addSignalListener("SIGINT", stop);
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", stop);
  const shownHost = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  const secure = config.tlsCert !== undefined || server.selfSigned !== null;
  const scheme = secure ? "wss" : "ws";
  const selfSigned = server.selfSigned;
  const caFile = selfSigned === null ? "" : resolve(selfSigned.caFile);
  const tlsLines = selfSigned === null ? [] : selfSignedBanner(selfSigned, {
    caFile,
    shownHost,
    port: server.port,
    key: created?.device,
    filesDir: DEFAULT_CLIENT_FILES_DIR,
  });
  const filesDirNote =
    `  (--files-dir is where files arrive and leave and where launched apps and run steps start; ` +
    `${DEFAULT_CLIENT_FILES_DIR} is the default on Linux, ~/Library/Application Support/alien3/files ` +
    `on macOS, %LOCALAPPDATA%\\alien3\\files on Windows)`;
  if (created !== null) {
    const { operator, device } = created;
    console.log(`First start: created an operator token and a device key in ${config.dataDir}.`);
    console.log("They are shown only now. Keep them safe; manage keys with `deno task keys`.");
    console.log(`  operator token: ${operator}`);
    console.log(`  device key:     ${device}`);
    if (tlsLines.length === 0) {
      console.log(
        "Join a device (one key joins any number of names: a fleet key; see README, Device identity):",
      );
      console.log(
        `  deno task client --connect ${scheme}://${shownHost}:${server.port} --key ${device} --name my-device ` +
          `--files-dir ${DEFAULT_CLIENT_FILES_DIR}`,
      );
      console.log(filesDirNote);
    }
    const host = selfSigned === null ? shownHost : joinHost(selfSigned.names, shownHost);
    const http = `${secure ? "https" : "http"}://${host}:${server.port}`;
    console.log("List devices:");
    console.log(
      `  ${
        selfSigned === null ? "" : `DENO_CERT=${caFile} `
      }deno task a3 devices --server ${http} --token ${operator}`,
    );
    console.log(
      `  curl${
        selfSigned === null ? "" : ` --cacert ${caFile}`
      } -H 'Authorization: Bearer ${operator}' ${http}/api/devices`,
    );
  }
  for (const line of tlsLines) console.log(line);
  if (tlsLines.length > 0) console.log(filesDirNote);
  console.log(
    `ALIEN3 server listening on ${config.host}:${server.port} (devices: ${scheme}://${shownHost}:${server.port}${DEVICE_PATH})`,
  );
  await stopped.promise;
  await server.close();
  return 0;
}

if (import.meta.main) Deno.exit(await main());
