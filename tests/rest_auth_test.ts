import assert from "node:assert/strict";
import { startTestServer } from "./helpers/server.ts";
import { RawDevice } from "./helpers/raw_device.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

async function errorOf(response: Response): Promise<{ status: number; code: string; message: string }> {
  const body = await response.json();
  assert.deepEqual(Object.keys(body), ["error"], "the error body has exactly one key");
  assert.deepEqual(Object.keys(body.error).sort(), ["code", "message"]);
  assert.match(body.error.code, /^[a-z]+(-[a-z]+)*$/, "codes are kebab-case");
  return { status: response.status, ...body.error };
}

Deno.test("REST auth: health is open, everything else needs an operator token", live, async (t) => {
  const server = await startTestServer();
  try {
    await t.step("GET /healthz needs no token", async () => {
      const response = await server.api("/healthz", { token: null });
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { status: "ok" });
    });
    await t.step("no token → 401", async () => {
      const error = await errorOf(await server.api("/api/devices", { token: null }));
      assert.deepEqual([error.status, error.code], [401, "unauthorized"]);
    });
    await t.step("wrong token → 401", async () => {
      const error = await errorOf(await server.api("/api/devices", { token: "a3o_wrong" }));
      assert.deepEqual([error.status, error.code], [401, "unauthorized"]);
    });
    await t.step("a device key on operator routes → 403", async () => {
      const error = await errorOf(await server.api("/api/devices", { token: server.deviceKey }));
      assert.deepEqual([error.status, error.code], [403, "wrong-scope"]);
    });
    await t.step("unknown route → 404 with the error body", async () => {
      const error = await errorOf(await server.api("/api/nothing-here"));
      assert.deepEqual([error.status, error.code], [404, "not-found"]);
    });
    await t.step("a revoked operator token → 401", async () => {
      const created = await server.api("/api/keys", {
        method: "POST",
        body: JSON.stringify({ scope: "operator", name: "short-lived" }),
      });
      assert.equal(created.status, 201);
      const key = await created.json();
      assert.match(key.secret, /^a3o_/);
      assert.equal((await server.api("/api/devices", { token: key.secret })).status, 200);
      assert.equal((await server.api(`/api/keys/${key.id}`, { method: "DELETE" })).status, 200);
      const error = await errorOf(await server.api("/api/devices", { token: key.secret }));
      assert.deepEqual([error.status, error.code], [401, "unauthorized"]);
    });
    await t.step("a malformed key body → 400 naming the field", async () => {
      const response = await server.api("/api/keys", {
        method: "POST",
        body: JSON.stringify({ scope: "root", name: "x" }),
      });
      const error = await errorOf(response);
      assert.deepEqual([error.status, error.code], [400, "invalid-body"]);
      assert.match(error.message, /scope/);
      const notJson = await errorOf(await server.api("/api/keys", { method: "POST", body: "{" }));
      assert.equal(notJson.code, "invalid-body");
    });
    await t.step("GET /api/keys never shows secrets", async () => {
      const text = await (await server.api("/api/keys")).text();
      assert.ok(!text.includes(server.operatorToken) && !text.includes(server.deviceKey));
      assert.ok(!text.includes("secret"));
    });
  } finally {
    await server.close();
  }
});

Deno.test("GET /api/devices lists devices with exactly the contract's fields", live, async () => {
  const server = await startTestServer();
  const device = await RawDevice.open(server.wsUrl);
  try {
    const { ready } = await device.handshake(server.deviceKey, "lister");
    const response = await server.api("/api/devices");
    assert.equal(response.status, 200);
    const body = await response.json();
    assert.equal(body.devices.length, 1);
    const listed = body.devices[0];
    assert.deepEqual(Object.keys(listed).sort(), [
      "capabilities",
      "id",
      "lastSeen",
      "media",
      "name",
      "rttMs",
      "state",
    ]);
    // A device that cannot capture has no frames path; it is online, so its rates are zero, not null.
    assert.deepEqual(listed.media, {
      path: null,
      fps: 0,
      bytesPerSecond: 0,
      lastFrameAgeMs: null,
      peer: null,
      video: null,
    });
    assert.equal(listed.id, ready.payload.deviceId);
    assert.equal(listed.state, "ready");
    assert.deepEqual(listed.capabilities.screens, []);
    assert.equal(typeof listed.lastSeen, "number");
    const one = await server.api(`/api/devices/${listed.id}`);
    assert.equal((await one.json()).name, "lister");
    const missing = await errorOf(await server.api("/api/devices/dev_nope"));
    assert.deepEqual([missing.status, missing.code], [404, "unknown-device"]);
  } finally {
    await device.close();
    await server.close();
  }
});
