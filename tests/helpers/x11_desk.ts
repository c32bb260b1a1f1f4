/** A real X display with the real device client on it, joined to a test server: how the X11 tests begin. */
import { type ClientProcess, startClient } from "./client_process.ts";
import { until } from "./gateway_harness.ts";
import { startTestServer, type TestServer } from "./server.ts";
import { startXServer, type XServer } from "./xvnc.ts";

/** The display, the server and the client on the display. */
export interface X11Desk {
  x: XServer;
  server: TestServer;
  client: ClientProcess;
  /** Stops the client, the server and the X server, in that order. */
  stop(): Promise<void>;
}

/**
 * Starts an X server, a test server with `serverFlags` and the client named `name` on the display (with
 * `clientArgs`); resolves once the server counts the client ready.
 */
export async function startX11Desk(
  name: string,
  options: { serverFlags?: string[]; clientArgs?: string[] } = {},
): Promise<X11Desk> {
  const x = await startXServer();
  let server: TestServer | undefined;
  let client: ClientProcess | undefined;
  const stop = async () => {
    await client?.stop();
    await server?.close();
    await x.stop();
  };
  try {
    server = await startTestServer(options.serverFlags ?? []);
    const { gateway } = server;
    client = await startClient(server.wsUrl, server.deviceKey, name, {
      env: { DISPLAY: x.display },
      extraArgs: options.clientArgs,
    });
    await until(() => gateway.device(name)?.state === "ready", `${name}, the X client, to be ready`, 20_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { x, server, client, stop };
}
