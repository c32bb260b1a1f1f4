/**
 * Device identity end to end: a real server on a loopback port, real client processes, REST. Per-device keys
 * (enrolled and operator-bound), revoking one device, and the second-client rule.
 */
import assert from "node:assert/strict";
import { type ClientProcess, startClient } from "./helpers/client_process.ts";
import { until } from "./helpers/gateway_harness.ts";
import { startTestServer, type TestServer } from "./helpers/server.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

interface ListedDevice {
  id: string;
  name: string;
  state: string;
}

interface ListedKey {
  id: string;
  scope: string;
  name: string;
  revokedAt: number | null;
  device: string | null;
  enrolledBy: string | null;
}

async function devices(server: TestServer): Promise<ListedDevice[]> {
  return (await (await server.api("/api/devices")).json()).devices;
}

/** Waits until device `name` is in `state` (as GET /api/devices lists it). */
async function waitForState(server: TestServer, name: string, state: string, timeoutMs = 20_000) {
  let listed: ListedDevice[] = [];
  await until(
    () => listed.some((d) => d.name === name && d.state === state),
    `${name} ${state}`,
    timeoutMs,
    async () => void (listed = await devices(server)),
  );
  return listed.find((d) => d.name === name)!;
}

async function createKey(server: TestServer, body: Record<string, string>) {
  const response = await server.api("/api/keys", { method: "POST", body: JSON.stringify(body) });
  assert.equal(response.status, 201, await response.clone().text());
  return await response.json() as ListedKey & { secret: string };
}

async function keys(server: TestServer): Promise<ListedKey[]> {
  return (await (await server.api("/api/keys")).json()).keys;
}

async function ping(server: TestServer, name: string): Promise<number> {
  return (await server.api(`/api/devices/${name}/ping`, { method: "POST" })).status;
}

Deno.test(
  "per-device keys: enrolled devices get their own stored keys, and revoking one device refuses it alone",
  live,
  async (t) => {
    const server = await startTestServer();
    const dataDirs = [await Deno.makeTempDir(), await Deno.makeTempDir()];
    const clients: ClientProcess[] = [];
    const start = (key: string, name: string, dataDir: string) => {
      const client = startClient(server.url.replace("http", "ws"), key, name, {
        extraArgs: ["--data-dir", dataDir],
        captureOutput: true,
      });
      return client.then((c) => (clients.push(c), c));
    };
    try {
      const enrollment = await createKey(server, { scope: "enroll", name: "lab enrollment" });
      const kioskKey = await createKey(server, { scope: "device", name: "kiosk key", device: "kiosk" });

      await t.step("an enrollment key is its own scope: a3e_, and no REST", async () => {
        assert.match(enrollment.secret, /^a3e_[A-Za-z0-9_-]{43}$/);
        assert.equal(enrollment.scope, "enroll");
        assert.equal(kioskKey.device, "kiosk");
        const refused = await server.api("/api/devices", { token: enrollment.secret });
        assert.equal(refused.status, 403);
        const { error } = await refused.json();
        assert.deepEqual(error, {
          code: "wrong-scope",
          message: "Cannot authorize: an enroll key cannot use operator routes",
        });
        const bad = await server.api("/api/keys", {
          method: "POST",
          body: JSON.stringify({ scope: "operator", name: "x", device: "kiosk" }),
        });
        assert.equal(bad.status, 400);
        assert.match((await bad.json()).error.message, /device: only a device key can be bound to a device/);
      });

      const labA = await start(enrollment.secret, "lab-a", dataDirs[0]);
      const labB = await start(enrollment.secret, "lab-b", dataDirs[1]);
      const kiosk = await start(kioskKey.secret, "kiosk", dataDirs[1]);
      const port = new URL(server.url).port;
      const storedA = `${dataDirs[0]}/credentials/lab-a@127.0.0.1_${port}.json`;

      await t.step(
        "each enrolled device joins under a key minted for it, stored 0600 in its data dir",
        async () => {
          await waitForState(server, "lab-a", "ready");
          await waitForState(server, "lab-b", "ready");
          await waitForState(server, "kiosk", "ready");
          await labA.waitForOutput(/Enrolled: this device's own key key_\S+ is stored in /);
          const minted = (await keys(server)).filter((k) => k.enrolledBy === enrollment.id);
          assert.deepEqual(minted.map((k) => [k.scope, k.name, k.device]).sort(), [
            ["device", "lab-a", "lab-a"],
            ["device", "lab-b", "lab-b"],
          ]);
          const stored = JSON.parse(await Deno.readTextFile(storedA));
          assert.equal(stored.keyId, minted.find((k) => k.device === "lab-a")!.id);
          assert.match(stored.secret, /^a3d_/);
          assert.equal((await Deno.stat(storedA)).mode! & 0o777, 0o600);
        },
      );

      await t.step("a device-bound key refuses any other name", async () => {
        const impostor = await start(kioskKey.secret, "not-kiosk", dataDirs[1]);
        const status = await impostor.child.status;
        assert.equal(status.code, 3, "refused key: exit 3");
        assert.match(
          impostor.output(),
          /key kiosk key is bound to device kiosk; start the client with --name kiosk/,
        );
        assert.equal((await devices(server)).some((d) => d.name === "not-kiosk"), false);
      });

      await t.step("revoking lab-a's key drops lab-a only", async () => {
        const labAKey = (await keys(server)).find((k) => k.device === "lab-a")!;
        const revoked = await server.api(`/api/keys/${labAKey.id}`, { method: "DELETE" });
        assert.equal(revoked.status, 200);
        assert.equal((await labA.child.status).code, 3, "lab-a's client stops: its key was revoked");
        await waitForState(server, "lab-a", "offline");
        assert.equal(await ping(server, "lab-b"), 200, "lab-b still answers");
        assert.equal(await ping(server, "kiosk"), 200, "kiosk still answers");
      });

      await t.step(
        "lab-a started again with the enrollment key stays refused: it does not enroll anew",
        async () => {
          const again = await start(enrollment.secret, "lab-a", dataDirs[0]);
          assert.equal((await again.child.status).code, 3);
          assert.match(again.output(), /Joining with this device's own key/);
          assert.match(again.output(), /was refused; delete that file to enroll again/);
          const forLabA = (await keys(server)).filter((k) => k.device === "lab-a");
          assert.equal(forLabA.length, 1, "no second key was minted");
          assert.notEqual(forLabA[0].revokedAt, null);
        },
      );

      await t.step("lab-b restarted joins with its stored key, as the same device", async () => {
        const before = await waitForState(server, "lab-b", "ready");
        await labB.stop();
        await waitForState(server, "lab-b", "offline");
        const restarted = await start(enrollment.secret, "lab-b", dataDirs[1]);
        const after = await waitForState(server, "lab-b", "ready");
        assert.equal(after.id, before.id);
        assert.match(restarted.output(), /Joining with this device's own key/);
        assert.equal(
          (await keys(server)).filter((k) => k.device === "lab-b").length,
          1,
          "nothing new minted",
        );
      });
      void kiosk;
    } finally {
      await Promise.all(clients.map((c) => c.stop()));
      await server.close();
      for (const dir of dataDirs) await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "a second client with the same key and name is refused while the first is live, and joins once it leaves",
  live,
  async () => {
    const server = await startTestServer();
    const url = server.url.replace("http", "ws");
    const first = await startClient(url, server.deviceKey, "twin", { captureOutput: true });
    let second: ClientProcess | null = null;
    try {
      const device = await waitForState(server, "twin", "ready");
      const sessionId = server.gateway.registry.get(device.id)!.sessionId;
      second = await startClient(url, server.deviceKey, "twin", { captureOutput: true });
      await second.waitForOutput(/twin is connected from another client with this key/);
      await second.waitForOutput(/another client is connected as this device; retrying in/);
      // After the refusal: the first client still holds the same session and answers.
      assert.equal(await ping(server, "twin"), 200);
      assert.equal(server.gateway.registry.get(device.id)!.sessionId, sessionId, "the session was not taken");
      assert.doesNotMatch(first.output(), /reconnecting|session-replaced/);
      assert.equal((await devices(server)).length, 1);

      await first.stop();
      await until(
        () => {
          const record = server.gateway.registry.get(device.id);
          return record?.state === "ready" && record.sessionId !== sessionId;
        },
        "the second client to join",
        20_000,
      );
      assert.equal(await ping(server, "twin"), 200);
    } finally {
      await first.stop();
      await second?.stop();
      await server.close();
    }
  },
);
