/** Forgetting devices end to end: DELETE /api/devices/:id and the retention window, with real clients. */
import assert from "node:assert/strict";
import { startClient } from "./helpers/client_process.ts";
import { until } from "./helpers/gateway_harness.ts";
import { startTestServer, type TestServer } from "./helpers/server.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

interface ListedDevice {
  id: string;
  name: string;
  state: string;
}

async function devices(server: TestServer): Promise<ListedDevice[]> {
  return (await (await server.api("/api/devices")).json()).devices;
}

/** Waits until `condition` holds for the device list. */
async function waitForList(
  server: TestServer,
  condition: (listed: ListedDevice[]) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<ListedDevice[]> {
  let listed: ListedDevice[] = [];
  await until(() => condition(listed), what, timeoutMs, async () => void (listed = await devices(server)));
  return listed;
}

const stateOf = (listed: ListedDevice[], name: string) => listed.find((d) => d.name === name)?.state;

Deno.test(
  "DELETE /api/devices/:id refuses a connected device, forgets an offline one for good, and 404s an unknown one",
  live,
  async (t) => {
    const dataDir = await Deno.makeTempDir({ prefix: "alien3-forget-" });
    let server = await startTestServer([], dataDir);
    const url = () => server.url.replace("http", "ws");
    let client = await startClient(url(), server.deviceKey, "old-box");
    const deviceKey = server.deviceKey;
    try {
      const listed = await waitForList(server, (l) => stateOf(l, "old-box") === "ready", "old-box ready");
      const id = listed.find((d) => d.name === "old-box")!.id;

      await t.step("while connected: 409 device-online, and the device stays", async () => {
        const response = await server.api("/api/devices/old-box", { method: "DELETE" });
        assert.equal(response.status, 409);
        const { error } = await response.json();
        assert.equal(error.code, "device-online");
        assert.match(
          error.message,
          /^Cannot forget device: it is connected: old-box is ready; stop its client/,
        );
        assert.equal((await server.api("/api/devices/old-box/ping", { method: "POST" })).status, 200);
      });

      await t.step("offline: forgotten (by name or id), no longer listed", async () => {
        await client.stop();
        await waitForList(server, (l) => stateOf(l, "old-box") === "offline", "old-box offline");
        const response = await server.api(`/api/devices/${id}`, { method: "DELETE" });
        assert.equal(response.status, 200);
        const body = await response.json();
        assert.deepEqual([body.id, body.name, body.state], [id, "old-box", "offline"]);
        assert.deepEqual(await devices(server), []);
        assert.equal((await server.api(`/api/devices/${id}`)).status, 404);
      });

      await t.step("unknown: 404 unknown-device", async () => {
        const response = await server.api("/api/devices/old-box", { method: "DELETE" });
        assert.equal(response.status, 404);
        assert.equal((await response.json()).error.code, "unknown-device");
      });

      await t.step(
        "it stays forgotten after a restart, and comes back under the same id when it joins",
        async () => {
          await server.close();
          server = await startTestServer([], dataDir);
          assert.deepEqual(await devices(server), [], "the stored row went with it");
          client = await startClient(url(), deviceKey, "old-box");
          const back = await waitForList(server, (l) => stateOf(l, "old-box") === "ready", "old-box back");
          assert.equal(back[0].id, id);
        },
      );
    } finally {
      await client.stop();
      await server.close();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
);

Deno.test(
  "--device-retention forgets an offline device unseen for that long; a connected one stays",
  live,
  async () => {
    const server = await startTestServer(["--device-retention", "1s"]);
    const url = server.url.replace("http", "ws");
    const leaving = await startClient(url, server.deviceKey, "leaving");
    const staying = await startClient(url, server.deviceKey, "staying");
    try {
      await waitForList(
        server,
        (l) => stateOf(l, "leaving") === "ready" && stateOf(l, "staying") === "ready",
        "both ready",
      );
      await leaving.stop();
      await waitForList(server, (l) => stateOf(l, "leaving") === "offline", "leaving offline");
      const after = await waitForList(server, (l) => stateOf(l, "leaving") === undefined, "leaving aged out");
      assert.deepEqual(after.map((d) => [d.name, d.state]), [["staying", "ready"]]);
    } finally {
      await leaving.stop();
      await staying.stop();
      await server.close();
    }
  },
);
