import assert from "node:assert/strict";
import { encodeMessage, PROTOCOL_VERSION } from "../../shared/protocol/mod.ts";
import { startGateway, until } from "../../tests/helpers/gateway_harness.ts";
import { RawDevice, testCapabilities } from "../../tests/helpers/raw_device.ts";
import { CloseCodes } from "../../shared/protocol/mod.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "handshake CONNECT → ACK → REGISTER_CAPABILITIES → READY makes the device ready",
  live,
  async () => {
    const h = startGateway();
    const device = await RawDevice.open(h.url);
    try {
      const { ack, ready } = await device.handshake(h.deviceKey.secret, "laptop-a");
      assert.equal(ack.payload.protocolVersion, PROTOCOL_VERSION);
      assert.equal(ack.payload.resumed, false);
      assert.equal(ack.payload.heartbeatIntervalMs, 1000);
      assert.equal(ack.payload.limits.maxJsonBytes, 16 * 1024);
      assert.match(ready.payload.deviceId, /^dev_[0-9a-f]{20}$/);
      const [view] = h.gateway.devices();
      assert.equal(view.id, ready.payload.deviceId);
      assert.equal(view.name, "laptop-a");
      assert.equal(view.state, "ready");
      assert.deepEqual(view.capabilities.tags, ["test"]);
    } finally {
      await device.close();
      await h.close();
    }
  },
);

Deno.test("gateway refuses every out-of-order handshake step with ERROR and closes", live, async (t) => {
  const h = startGateway();
  try {
    await t.step("REGISTER_CAPABILITIES before CONNECT", async () => {
      const device = await RawDevice.open(h.url);
      device.send("REGISTER_CAPABILITIES", testCapabilities("x"));
      assert.equal((await device.next("ERROR")).payload.code, "out-of-order");
      assert.equal(await device.waitClosed(), CloseCodes.outOfOrder);
    });
    await t.step("RESULT before READY", async () => {
      const device = await RawDevice.open(h.url);
      await device.connect(h.deviceKey.secret);
      device.sendReliable("RESULT", { taskId: "t", ok: true });
      assert.equal((await device.next("ERROR")).payload.code, "out-of-order");
      assert.equal(await device.waitClosed(), CloseCodes.outOfOrder);
    });
    await t.step("a second CONNECT after READY", async () => {
      const device = await RawDevice.open(h.url);
      await device.handshake(h.deviceKey.secret, "twice");
      device.send("CONNECT", {
        protocolVersion: PROTOCOL_VERSION,
        token: h.deviceKey.secret,
        clientVersion: "t",
      });
      assert.equal((await device.next("ERROR")).payload.code, "out-of-order");
      assert.equal(await device.waitClosed(), CloseCodes.outOfOrder);
    });
    await t.step("a server-only message from a device is refused", async () => {
      const device = await RawDevice.open(h.url);
      await device.handshake(h.deviceKey.secret, "wrong-dir");
      device.send("PING", { id: 1, sentAtMs: 1 });
      const error = await device.next("ERROR");
      assert.equal(error.payload.code, "wrong-direction");
      await device.close();
    });
    assert.equal(h.delivered.length, 0, "no out-of-order message reached the server's listeners");
  } finally {
    await h.close();
  }
});

Deno.test(
  "gateway refuses wrong, revoked and operator-scoped keys and unsupported versions",
  live,
  async (t) => {
    const h = startGateway();
    try {
      await t.step("wrong key", async () => {
        const device = await RawDevice.open(h.url);
        device.send("CONNECT", { protocolVersion: PROTOCOL_VERSION, token: "nope", clientVersion: "t" });
        assert.equal((await device.next("ERROR")).payload.code, "unauthorized");
        assert.equal(await device.waitClosed(), CloseCodes.unauthorized);
      });
      await t.step("operator key on the device endpoint", async () => {
        const device = await RawDevice.open(h.url);
        device.send("CONNECT", {
          protocolVersion: PROTOCOL_VERSION,
          token: h.operatorKey.secret,
          clientVersion: "t",
        });
        assert.equal((await device.next("ERROR")).payload.code, "wrong-scope");
        assert.equal(await device.waitClosed(), CloseCodes.unauthorized);
      });
      await t.step("protocol version too new and too old", async () => {
        for (const version of [PROTOCOL_VERSION + 1, 0]) {
          const device = await RawDevice.open(h.url);
          device.send("CONNECT", { protocolVersion: version, token: h.deviceKey.secret, clientVersion: "t" });
          const error = await device.next("ERROR");
          assert.equal(error.payload.code, "version-unsupported");
          assert.match(error.payload.message, /supports 1\.\.1/);
          assert.equal(await device.waitClosed(), CloseCodes.versionUnsupported);
        }
      });
      await t.step("revoking a key drops its live connection and refuses the key afterwards", async () => {
        const key = h.keys.add("device", "short-lived");
        const device = await RawDevice.open(h.url);
        const { ready } = await device.handshake(key.secret, "doomed");
        h.keys.revoke(key.id);
        assert.equal((await device.next("ERROR")).payload.code, "key-revoked");
        assert.equal(await device.waitClosed(), CloseCodes.keyRevoked);
        assert.equal(h.gateway.device(ready.payload.deviceId)?.state, "offline");
        const again = await RawDevice.open(h.url);
        again.send("CONNECT", { protocolVersion: PROTOCOL_VERSION, token: key.secret, clientVersion: "t" });
        assert.equal((await again.next("ERROR")).payload.code, "unauthorized");
        await again.waitClosed();
      });
    } finally {
      await h.close();
    }
  },
);

Deno.test("heartbeats measure RTT and a silent device is marked offline and closed", live, async () => {
  const h = startGateway({ heartbeatIntervalMs: 50, heartbeatTimeoutMs: 300 });
  const alive = await RawDevice.open(h.url);
  const silent = await RawDevice.open(h.url);
  try {
    const a = (await alive.handshake(h.deviceKey.secret, "alive")).ready.payload.deviceId;
    silent.autoPong = false;
    const s = (await silent.handshake(h.deviceKey.secret, "silent")).ready.payload.deviceId;
    await until(() => h.gateway.device(a)?.rttMs !== null, "an RTT sample");
    assert.ok(h.gateway.device(a)!.rttMs! >= 0);
    const probed = await h.gateway.probe(a);
    assert.ok(probed !== null && probed > 0 && probed < 2000, `probe RTT ${probed}`);
    assert.equal(await h.gateway.probe("dev_unknown"), null);
    assert.equal((await silent.next("ERROR", 2000)).payload.code, "heartbeat-timeout");
    assert.equal(await silent.waitClosed(), CloseCodes.heartbeatTimeout);
    assert.equal(h.gateway.device(s)?.state, "offline");
    assert.deepEqual(h.offline.map((o) => o.reason), ["heartbeat-timeout"]);
    assert.equal(h.gateway.device(a)?.state, "ready", "the answering device stays ready");
  } finally {
    await alive.close();
    await h.close();
  }
});

Deno.test("a device that never finishes its handshake is closed", live, async () => {
  const h = startGateway({ handshakeTimeoutMs: 100 });
  const device = await RawDevice.open(h.url);
  try {
    await device.connect(h.deviceKey.secret);
    assert.equal((await device.next("ERROR")).payload.code, "handshake-timeout");
    assert.equal(await device.waitClosed(), CloseCodes.handshakeTimeout);
  } finally {
    await h.close();
  }
});

Deno.test(
  "a socket cut mid-stream and resumed delivers every control message exactly once, in order",
  live,
  async () => {
    const h = startGateway();
    let device = await RawDevice.open(h.url);
    try {
      const { ack, ready } = await device.handshake(h.deviceKey.secret, "resumer");
      const deviceId = ready.payload.deviceId;
      // Server → device: the device acknowledges the first two, then stops acknowledging.
      for (let i = 1; i <= 2; i++) h.gateway.send(deviceId, "ACTION_MOVE", { actionId: `a${i}`, x: i, y: i });
      await device.next("ACTION_MOVE");
      await device.next("ACTION_MOVE");
      device.autoAck = false;
      for (let i = 3; i <= 4; i++) h.gateway.send(deviceId, "ACTION_MOVE", { actionId: `a${i}`, x: i, y: i });
      const third = await device.next("ACTION_MOVE");
      assert.equal(third.payload.actionId, "a3");
      // Device → server: three results, the socket drops before the device sees the acks.
      for (let i = 1; i <= 3; i++) device.sendReliable("RESULT", { actionId: `r${i}`, ok: true });
      await until(() => h.delivered.length === 3, "three results");
      device.socket.close();
      await device.closed;
      await until(() => h.gateway.device(deviceId)?.state === "connecting", "the grace state");
      // Sent while the device is away: held for replay.
      h.gateway.send(deviceId, "ACTION_MOVE", { actionId: "a5", x: 5, y: 5 });

      device = await RawDevice.open(h.url);
      // The device saw a1..a3; it never saw the acks for r2, r3, so it replays r2..r4.
      const resumed = await device.connect(h.deviceKey.secret, {
        sessionId: ack.payload.sessionId,
        lastSeq: 3,
      });
      assert.equal(resumed.payload.resumed, true);
      assert.equal(resumed.payload.deviceId, deviceId);
      assert.equal(resumed.payload.lastSeq, 3, "the server reports the results it already has");
      await device.next("READY");
      device.lastSentSeq = 1;
      for (let i = 2; i <= 4; i++) device.sendReliable("RESULT", { actionId: `r${i}`, ok: true });
      await until(() => h.delivered.length === 4, "the fourth result");
      const replayed = [await device.next("ACTION_MOVE"), await device.next("ACTION_MOVE")];
      assert.deepEqual(replayed.map((m) => m.payload.actionId), ["a4", "a5"]);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(device.received.filter((m) => m.type === "ACTION_MOVE").length, 0, "nothing doubled");
      const results = h.delivered.map((d) => (d.message.payload as { actionId: string }).actionId);
      assert.deepEqual(results, ["r1", "r2", "r3", "r4"]);
      assert.equal(h.gateway.devices().length, 1, "no duplicate device");
      assert.equal(h.gateway.device(deviceId)?.state, "ready");
      assert.deepEqual(h.offline, [], "the device never went offline");
    } finally {
      await device.close();
      await h.close();
    }
  },
);

Deno.test(
  "device id is stable across a fresh reconnect, and the newer session replaces the older",
  live,
  async () => {
    const h = startGateway();
    const first = await RawDevice.open(h.url);
    const second = await RawDevice.open(h.url);
    try {
      const id1 = (await first.handshake(h.deviceKey.secret, "same-name")).ready.payload.deviceId;
      const id2 = (await second.handshake(h.deviceKey.secret, "same-name")).ready.payload.deviceId;
      assert.equal(id1, id2);
      assert.equal(await first.waitClosed(), CloseCodes.sessionReplaced);
      assert.equal(h.gateway.devices().length, 1);
      assert.equal(h.gateway.device(id1)?.state, "ready");
    } finally {
      await second.close();
      await h.close();
    }
  },
);

Deno.test(
  "hostile input gets coded errors, repeat offenders are cut off, other devices are unaffected",
  live,
  async (t) => {
    const h = startGateway({
      maxErrors: 12,
      limits: { maxFrameBytes: 4096, maxJsonBytes: 1024, maxMessagesPerSecond: 50 },
    });
    const bystander = await RawDevice.open(h.url);
    const attacker = await RawDevice.open(h.url);
    try {
      const bystanderId = (await bystander.handshake(h.deviceKey.secret, "bystander")).ready.payload.deviceId;
      await attacker.handshake(h.deviceKey.secret, "attacker");
      const expectError = async (data: Uint8Array | string, code: string) => {
        attacker.sendRaw(data);
        const error = await attacker.next("ERROR");
        assert.equal(error.payload.code, code, error.payload.message);
      };
      await t.step("garbage bytes", () => expectError(new Uint8Array([1, 2, 3]), "bad-header"));
      await t.step("a length field that lies", async () => {
        const frame = encodeMessage("PONG", { id: 1 }, 0);
        new DataView(frame.buffer).setUint32(1, 9999);
        await expectError(frame, "length-mismatch");
      });
      await t.step("an unknown type", async () => {
        const frame = encodeMessage("PONG", { id: 1 }, 0);
        frame[0] = 0x7f;
        await expectError(frame, "unknown-type");
      });
      await t.step(
        "a schema failure",
        () => expectError(encodeMessage("PONG", { id: -5 } as never, 0), "schema-violation"),
      );
      await t.step("a text frame", () => expectError("hello", "text-frame"));
      await t.step("an over-size frame", () => expectError(new Uint8Array(8192), "frame-too-large"));
      await t.step("an over-size JSON payload", async () => {
        const big = encodeMessage("BYE", { reason: "x".repeat(2000) }, 0);
        await expectError(big, "frame-too-large");
      });
      await t.step("a flood is rate limited and the offender disconnected", async () => {
        for (let i = 0; i < 400 && attacker.closeCode === null; i++) {
          attacker.send("PONG", { id: i });
          if (i % 25 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
        }
        await attacker.waitClosed();
        const codes = attacker.received.filter((m) => m.type === "ERROR").map((m) =>
          m.payload.code as string
        );
        assert.ok(codes.includes("rate-limited"), `got ${codes}`);
        await until(() => h.offline.length === 1, "the attacker going offline");
        assert.deepEqual(h.offline.map((o) => o.reason), ["too-many-errors"]);
      });
      await t.step("the bystander still gets work and answers", async () => {
        assert.ok(h.gateway.send(bystanderId, "ACTION_KEY", { actionId: "k1", keys: "ctrl+c" }));
        assert.equal((await bystander.next("ACTION_KEY")).payload.keys, "ctrl+c");
        bystander.sendReliable("RESULT", { actionId: "k1", ok: true });
        await until(() => h.delivered.some((d) => d.deviceId === bystanderId), "the bystander's result");
        assert.equal(h.gateway.device(bystanderId)?.state, "ready");
      });
    } finally {
      await bystander.close();
      await h.close();
    }
  },
);
