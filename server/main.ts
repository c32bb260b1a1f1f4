/**
 * The server: `deno task server [--port 8080] [--host H] [--data-dir D] [--tls-cert C --tls-key K |
 * --tls-self-signed NAME,…]`. On first start with an empty data dir it creates an operator token and a device key and prints them once.
 * Exit codes: 0 after SIGINT/SIGTERM, 2 bad flags, 3 the store or data dir cannot be used (one line on
 * stderr naming the file and what to do).
 */
import { resolve } from "node:path";
import { ConfigError, parseConfig } from "./config.ts";
import { type RunningServer, startServer } from "./server.ts";
import { databasePath } from "./store/db.ts";
import { StorageError, StoreOpenError, toStorageError } from "./store/errors.ts";
import { joinHost, selfSignedBanner } from "./tls/banner.ts";

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
  const shownHost = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  const secure = config.tlsCert !== undefined || server.selfSigned !== null;
  const scheme = secure ? "wss" : "ws";
  const selfSigned = server.selfSigned;
  const caFile = selfSigned === null ? "" : resolve(selfSigned.caFile);
  const tlsLines = selfSigned === null
    ? []
    : selfSignedBanner(selfSigned, { caFile, shownHost, port: server.port, key: created?.device });
  if (created !== null) {
    const { operator, device } = created;
    console.log(`First start: created an operator token and a device key in ${config.dataDir}.`);
    console.log("They are shown only now. Keep them safe; manage keys with `deno task keys`.");
    console.log(`  operator token: ${operator}`);
    console.log(`  device key:     ${device}`);
    if (tlsLines.length === 0) {
      console.log("Join a device:");
      console.log(
        `  deno task client --connect ${scheme}://${shownHost}:${server.port} --key ${device} --name my-device`,
      );
    }
    console.log("List devices:");
    const curlHost = selfSigned === null ? shownHost : joinHost(selfSigned.names, shownHost);
    console.log(
      `  curl${selfSigned === null ? "" : ` --cacert ${caFile}`} -H 'Authorization: Bearer ${operator}' ${
        secure ? "https" : "http"
      }://${curlHost}:${server.port}/api/devices`,
    );
  }
  for (const line of tlsLines) console.log(line);
  console.log(
    `ALIEN3 server listening on ${config.host}:${server.port} (devices: ${scheme}://${shownHost}:${server.port}/v1/device)`,
  );
  const stopped = Promise.withResolvers<void>();
  const stop = () => stopped.resolve();
  Deno.addSignalListener("SIGINT", stop);
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", stop);
  await stopped.promise;
  await server.close();
  return 0;
}

if (import.meta.main) Deno.exit(await main());
