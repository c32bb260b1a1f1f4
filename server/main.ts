/**
 * The server: `deno task server [--port 8080] [--host H] [--data-dir D] [--tls-cert C --tls-key K]`.
 * On first start with an empty data dir it creates an operator token and a device key and prints them once.
 */
import { ConfigError, parseConfig } from "./config.ts";
import { startServer } from "./server.ts";

async function main(): Promise<number> {
  let config;
  try {
    config = parseConfig(Deno.args, (name) => Deno.env.get(name));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`error: ${error.message}`);
    return 2;
  }
  const server = await startServer(config);
  const shownHost = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  const scheme = config.tlsCert ? "wss" : "ws";
  if (server.keys.list().length === 0) {
    const operator = server.keys.create("operator", "first-operator");
    const device = server.keys.create("device", "first-device");
    console.log(`First start: created an operator token and a device key in ${config.dataDir}.`);
    console.log("They are shown only now. Keep them safe; manage keys with `deno task keys`.");
    console.log(`  operator token: ${operator.secret}`);
    console.log(`  device key:     ${device.secret}`);
    console.log("Join a device:");
    console.log(
      `  deno task client --connect ${scheme}://${shownHost}:${server.port} --key ${device.secret} --name my-device`,
    );
    console.log("List devices:");
    console.log(
      `  curl -H 'Authorization: Bearer ${operator.secret}' ${
        config.tlsCert ? "https" : "http"
      }://${shownHost}:${server.port}/api/devices`,
    );
  }
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
