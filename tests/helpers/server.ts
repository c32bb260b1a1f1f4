/** Starts the real server on a loopback port with a fresh data dir, for end-to-end tests. */
import { parseConfig } from "../../server/config.ts";
import { type RunningServer, type StartOptions, startServer } from "../../server/server.ts";

/** A running test server with an operator token and a device key. */
export interface TestServer extends RunningServer {
  dataDir: string;
  operatorToken: string;
  deviceKey: string;
  /** fetch() against the server with the operator token. */
  api(path: string, init?: RequestInit & { token?: string | null }): Promise<Response>;
}

/** Starts a server; extra flags override the test defaults. Close it in `finally` (a data dir it made is removed). */
export async function startTestServer(
  flags: string[] = [],
  dataDir?: string,
  options: Omit<StartOptions, "keyPollMs"> = {},
): Promise<TestServer> {
  const dir = dataDir ?? await Deno.makeTempDir({ prefix: "alien3-test-" });
  const config = parseConfig(
    [
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--data-dir",
      dir,
      "--log",
      "silent",
      "--resume-grace-ms",
      "1000",
      ...flags,
    ],
    () => undefined,
  );
  const server = await startServer(config, { keyPollMs: 50, ...options });
  const close = async () => {
    await server.close();
    if (dataDir === undefined) await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  const operatorToken = server.keys.create("operator", "test-operator").secret;
  const deviceKey = server.keys.create("device", "test-devices").secret;
  return {
    ...server,
    close,
    dataDir: dir,
    operatorToken,
    deviceKey,
    api(path, init = {}) {
      const headers = new Headers(init.headers);
      const token = init.token === undefined ? operatorToken : init.token;
      if (token !== null) headers.set("authorization", `Bearer ${token}`);
      return fetch(`${server.url}${path}`, { ...init, headers });
    },
  };
}

/**
 * Polls `GET /api/devices/:name` until the device is listed and `done` holds for its JSON; returns that JSON.
 * Fails after `timeoutMs`, showing the device as it was last seen.
 */
export async function untilDevice<T>(
  server: TestServer,
  name: string,
  done: (device: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const response = await server.api(`/api/devices/${name}`);
    const device = response.status === 200 ? await response.json() as T : null;
    if (response.status !== 200) await response.body?.cancel();
    if (device !== null && done(device)) return device;
    if (Date.now() > deadline) throw new Error(`Timed out waiting on ${name}: ${JSON.stringify(device)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
