/**
 * Growth is bounded by live state, not by history: reconnects store a device's capabilities once (not per
 * connect), and a restart replays a snapshot plus a short tail. Real server processes, real sockets.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { PROTOCOL_VERSION } from "../shared/protocol/mod.ts";
import { RawDevice, testCapabilities } from "./helpers/raw_device.ts";
import { firstStartKeys, runServer, stopServer } from "./helpers/server_process.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

/** Bytes of the store in use (pages minus free pages, WAL included), read beside the running server. */
function storeBytes(dataDir: string): number {
  const db = new DatabaseSync(`${dataDir}/alien3.db`);
  try {
    const get = (pragma: string) => Object.values(db.prepare(`PRAGMA ${pragma}`).get()!)[0] as number;
    return (get("page_count") - get("freelist_count")) * get("page_size");
  } finally {
    db.close();
  }
}

/** The stated bound: what 1,000 reconnects may add to the store. (Restart time: bench/restart_bench.ts.) */
const MAX_GROWTH_BYTES = 4 * 1024 * 1024;

Deno.test(
  "1,000 reconnects with a 200 KB app list add under 4 MiB to the store; a restart after SIGKILL is healthy and lists the device offline",
  live,
  async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "alien3-growth-" });
    const keys = await firstStartKeys(dataDir);
    let run = await runServer(dataDir, { extraArgs: ["--log", "silent"] });
    try {
      assert.ok(run.up);
      const before = storeBytes(dataDir);
      const apps = Array.from(
        { length: 2200 },
        (_, i) =>
          `Application ${i}: /usr/share/applications/org.example.some-longer-application-name-${i}.desktop`,
      );
      const capabilities = { ...testCapabilities("big"), apps };
      const appBytes = JSON.stringify(apps).length;
      assert.ok(appBytes > 200_000, `a large app list (${appBytes} bytes)`);
      const wsUrl = `${run.url.replace("http", "ws")}/v1/device`;
      for (let i = 0; i < 1000; i++) {
        const device = await RawDevice.open(wsUrl);
        device.send("CONNECT", {
          protocolVersion: PROTOCOL_VERSION,
          token: keys.device,
          clientVersion: "test/1",
        });
        await device.next("ACK");
        device.send("REGISTER_CAPABILITIES", capabilities);
        await device.next("READY");
        await device.close();
      }
      const growth = (storeBytes(dataDir)) - before;
      assert.ok(growth < MAX_GROWTH_BYTES, `the store grew by ${growth} bytes`);
      await stopServer(run, "SIGKILL");

      run = await runServer(dataDir, { port: run.port, extraArgs: ["--log", "silent"] });
      assert.ok(run.up);
      const listed = await (await fetch(`${run.url}/api/devices`, {
        headers: { authorization: `Bearer ${keys.operator}` },
      })).json();
      assert.equal(listed.devices.length, 1);
      const [device] = listed.devices;
      assert.deepEqual(Object.keys(device), [
        "id",
        "name",
        "state",
        "rttMs",
        "lastSeen",
        "capabilities",
        "media",
      ]);
      assert.equal(device.name, "big");
      assert.equal(device.state, "offline");
      assert.deepEqual(device.capabilities.apps, apps);
    } finally {
      await stopServer(run);
      await Deno.remove(dataDir, { recursive: true });
    }
  },
);
