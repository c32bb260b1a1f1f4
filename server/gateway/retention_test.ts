import assert from "node:assert/strict";
import { startGateway, until } from "../../tests/helpers/gateway_harness.ts";
import { DeviceRetention, sweepEveryMs } from "./retention.ts";

const MINUTE = 60_000;

Deno.test("DeviceRetention forgets an offline device once it has been unseen for the window, on its timer", async () => {
  const h = startGateway();
  const forgotten: string[] = [];
  h.gateway.events.on("device-forgotten", (device, reason) => forgotten.push(`${device.name} ${reason}`));
  const retention = new DeviceRetention({
    clock: h.clock,
    retentionMs: 10 * MINUTE,
    devices: () => h.gateway.devices(),
    forget: (device) => void h.gateway.forget(device.id, "retention"),
  });
  const leaving = h.device();
  const staying = h.device();
  try {
    await leaving.handshake(h.deviceKey.secret, "leaving");
    await staying.handshake(h.deviceKey.secret, "staying");
    leaving.send("BYE", { reason: "done" });
    await until(() => h.gateway.device("leaving")?.state === "offline", "offline");
    await h.clock.tickAsync(9 * MINUTE);
    assert.equal(h.gateway.device("leaving")?.state, "offline", "kept inside the window");
    await h.clock.tickAsync(MINUTE + sweepEveryMs(10 * MINUTE));
    assert.equal(h.gateway.device("leaving"), undefined, "forgotten past it");
    assert.deepEqual(forgotten, ["leaving retention"]);
    assert.equal(h.gateway.device("staying")?.state, "ready", "a connected device is never aged out");
  } finally {
    retention.close();
    await h.close();
  }
});

Deno.test("DeviceRetention with 0 keeps devices for ever and arms no timer", async () => {
  const h = startGateway();
  const before = h.clock.pendingCount();
  const retention = new DeviceRetention({
    clock: h.clock,
    retentionMs: 0,
    devices: () => h.gateway.devices(),
    forget: () => assert.fail("nothing is forgotten"),
  });
  try {
    assert.equal(h.clock.pendingCount(), before);
    assert.deepEqual(retention.sweep(), []);
  } finally {
    retention.close();
    await h.close();
  }
});

Deno.test("DeviceRetention tries again next time when forgetting fails", async () => {
  const h = startGateway();
  const errors: string[] = [];
  let fail = true;
  const retention = new DeviceRetention({
    clock: h.clock,
    retentionMs: MINUTE,
    devices: () => h.gateway.devices(),
    forget: (device) => {
      if (fail) throw new Error("disk full");
      h.gateway.forget(device.id, "retention");
    },
    onError: (device, error) => errors.push(`${device.name}: ${(error as Error).message}`),
  });
  const device = h.device();
  try {
    await device.handshake(h.deviceKey.secret, "flaky");
    device.send("BYE", { reason: "done" });
    await until(() => h.gateway.device("flaky")?.state === "offline", "offline");
    await h.clock.tickAsync(MINUTE);
    assert.deepEqual(errors, ["flaky: disk full"], "the sweep at the window's end failed");
    fail = false;
    await h.clock.tickAsync(sweepEveryMs(MINUTE));
    assert.equal(h.gateway.device("flaky"), undefined);
  } finally {
    retention.close();
    await h.close();
  }
});
