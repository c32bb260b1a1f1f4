import assert from "node:assert/strict";
import {
  CloseCodes,
  encodeMessage,
  MIN_PROTOCOL_VERSION,
  PROTOCOL_VERSION,
} from "../../shared/protocol/mod.ts";
import { startGateway, tickUntil, until } from "../../tests/helpers/gateway_harness.ts";
import { RawDevice, testCapabilities } from "../../tests/helpers/raw_device.ts";
import { memoryPair } from "../../shared/transport/memory.ts";
import type { Transport } from "../../shared/transport/transport.ts";

Deno.test("handshake CONNECT → ACK → REGISTER_CAPABILITIES → READY makes the device ready", async () => {
  const h = startGateway();
  const device = h.device();
  try {
    const { ack, ready } = await device.handshake(h.deviceKey.secret, "laptop-a");
    assert.equal(ack.payload.protocolVersion, PROTOCOL_VERSION);
    assert.equal(ack.payload.resumed, false);
    assert.equal(ack.payload.sessionId, "session-1", "ids come from the injected source");
    assert.equal(ack.payload.heartbeatIntervalMs, 1000);
    assert.equal(ack.payload.limits.maxJsonBytes, 16 * 1024);
    assert.match(ready.payload.deviceId, /^dev_[0-9a-f]{20}$/);
    const [view] = h.gateway.devices();
    assert.equal(view.id, ready.payload.deviceId);
    assert.equal(view.name, "laptop-a");
    assert.equal(view.state, "ready");
    assert.deepEqual(view.capabilities.tags, ["test"]);
    assert.equal(h.gateway.device("laptop-a")?.id, view.id, "a device is found by name too");
  } finally {
    await h.close();
  }
});

Deno.test("gateway refuses every out-of-order handshake step with ERROR and closes", async (t) => {
  const h = startGateway();
  try {
    await t.step("REGISTER_CAPABILITIES before CONNECT", async () => {
      const device = h.device();
      device.send("REGISTER_CAPABILITIES", testCapabilities("x"));
      assert.equal((await device.next("ERROR")).payload.code, "out-of-order");
      assert.equal(await device.waitClosed(), CloseCodes.outOfOrder);
    });
    await t.step("RESULT before READY", async () => {
      const device = h.device();
      await device.connect(h.deviceKey.secret);
      device.sendReliable("RESULT", { taskId: "t", ok: true });
      assert.equal((await device.next("ERROR")).payload.code, "out-of-order");
      assert.equal(await device.waitClosed(), CloseCodes.outOfOrder);
    });
    await t.step("a second CONNECT after READY", async () => {
      const device = h.device();
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
      const device = h.device();
      await device.handshake(h.deviceKey.secret, "wrong-dir");
      device.send("PING", { id: 1, sentAtMs: 1 });
      assert.equal((await device.next("ERROR")).payload.code, "wrong-direction");
    });
    assert.equal(h.delivered.length, 0, "no out-of-order message reached an owner");
  } finally {
    await h.close();
  }
});

Deno.test("gateway refuses wrong, revoked and operator-scoped keys and unsupported versions", async (t) => {
  const h = startGateway();
  try {
    await t.step("wrong key", async () => {
      const device = h.device();
      device.send("CONNECT", { protocolVersion: PROTOCOL_VERSION, token: "nope", clientVersion: "t" });
      assert.equal((await device.next("ERROR")).payload.code, "unauthorized");
      assert.equal(await device.waitClosed(), CloseCodes.unauthorized);
    });
    await t.step("operator key on the device endpoint", async () => {
      const device = h.device();
      device.send("CONNECT", {
        protocolVersion: PROTOCOL_VERSION,
        token: h.operatorKey.secret,
        clientVersion: "t",
      });
      const error = (await device.next("ERROR")).payload;
      assert.equal(error.code, "wrong-scope");
      assert.match(error.message, /: an operator key cannot connect a device$/);
      assert.equal(await device.waitClosed(), CloseCodes.unauthorized);
    });
    await t.step("protocol version too new and too old", async () => {
      for (const version of [PROTOCOL_VERSION + 1, 0]) {
        const device = h.device();
        device.send("CONNECT", { protocolVersion: version, token: h.deviceKey.secret, clientVersion: "t" });
        const error = await device.next("ERROR");
        assert.equal(error.payload.code, "version-unsupported");
        const range = `supports ${MIN_PROTOCOL_VERSION}\\.\\.${PROTOCOL_VERSION}`;
        assert.match(
          error.payload.message,
          new RegExp(`client speaks ${version}, server ${range}; update the `),
        );
        assert.match(
          error.payload.message,
          version > PROTOCOL_VERSION ? /update the server$/ : /update the client$/,
        );
        assert.equal(await device.waitClosed(), CloseCodes.versionUnsupported);
      }
    });
    await t.step("revoking a key drops its live connection and refuses the key afterwards", async () => {
      const key = h.keys.add("device", "short-lived");
      const device = h.device();
      const { ready } = await device.handshake(key.secret, "doomed");
      h.keys.revoke(key.id);
      assert.equal((await device.next("ERROR")).payload.code, "key-revoked");
      assert.equal(await device.waitClosed(), CloseCodes.keyRevoked);
      assert.equal(h.gateway.device(ready.payload.deviceId)?.state, "offline");
      const again = h.device();
      again.send("CONNECT", { protocolVersion: PROTOCOL_VERSION, token: key.secret, clientVersion: "t" });
      assert.equal((await again.next("ERROR")).payload.code, "unauthorized");
      await again.waitClosed();
    });
  } finally {
    await h.close();
  }
});

Deno.test("heartbeats measure RTT, feed device-updated, and a silent device goes offline and is closed", async () => {
  const h = startGateway({ heartbeatIntervalMs: 50, heartbeatTimeoutMs: 300 });
  const updated: Array<number | null> = [];
  h.gateway.events.on("device-updated", (device) => updated.push(device.rttMs));
  const alive = h.device();
  const silent = h.device();
  try {
    const a = (await alive.handshake(h.deviceKey.secret, "alive")).ready.payload.deviceId;
    silent.autoPong = false;
    const s = (await silent.handshake(h.deviceKey.secret, "silent")).ready.payload.deviceId;
    await h.clock.tickAsync(20);
    await alive.next("PING");
    await tickUntil(h.clock, () => h.gateway.device(a)?.rttMs !== null, "an RTT sample");
    assert.equal(h.gateway.device(a)!.rttMs, 0, "the PONG came back before the fake clock moved");
    assert.deepEqual(updated, [0], "the first sample is reported at once");
    await tickUntil(h.clock, () => silent.closeCode !== null, "the silent device closed");
    assert.equal(h.clock.now() - 1_700_000_000_000 <= 400, true, "closed within the timeout and one tick");
    assert.equal((await silent.next("ERROR")).payload.code, "heartbeat-timeout");
    assert.equal(silent.closeCode, CloseCodes.heartbeatTimeout);
    assert.equal(h.gateway.device(s)?.state, "offline");
    assert.deepEqual(h.offline.map((o) => o.reason), ["heartbeat-timeout"]);
    assert.equal(h.gateway.device(a)?.state, "ready", "the answering device stays ready");
  } finally {
    await h.close();
  }
});

Deno.test("ping() resolves with the RTT when the PONG comes, and with null once its timeout passes without one", async () => {
  const h = startGateway({ heartbeatIntervalMs: 60_000, heartbeatTimeoutMs: 120_000, tickMs: 20 });
  const device = h.device();
  try {
    const id = (await device.handshake(h.deviceKey.secret, "probed")).ready.payload.deviceId;
    assert.equal(typeof await h.gateway.ping(id, 1000), "number", "answered at once");
    device.received.length = 0;
    device.autoPong = false;
    let answer: number | null | undefined = undefined;
    void h.gateway.ping(id, 100).then((rtt) => answer = rtt);
    const probe = await device.next("PING");
    await h.clock.tickAsync(60);
    assert.equal(answer, undefined, "still waiting before its timeout");
    await h.clock.tickAsync(80);
    assert.equal(answer, null, "given up after its timeout");
    device.send("PONG", { id: probe.payload.id });
    device.autoPong = true;
    assert.equal(
      typeof await h.gateway.ping(id, 1000),
      "number",
      "the late PONG was ignored; the next probe works",
    );
  } finally {
    await h.close();
  }
});

Deno.test("a transport without push mode is read through its iterator: handshake, messages and close", async () => {
  const h = startGateway();
  try {
    const [deviceEnd, serverEnd] = memoryPair();
    // The same transport with `listen` hidden, as a transport that offers only iteration.
    const iterOnly: Transport = {
      send: (bytes) => serverEnd.send(bytes),
      close: (code, reason) => serverEnd.close(code, reason),
      get closed() {
        return serverEnd.closed;
      },
      bufferedAmount: 0,
      get isOpen() {
        return serverEnd.isOpen;
      },
      [Symbol.asyncIterator]: () => serverEnd[Symbol.asyncIterator](),
    };
    h.gateway.accept(iterOnly);
    const device = RawDevice.over(deviceEnd);
    const id = (await device.handshake(h.deviceKey.secret, "iterated")).ready.payload.deviceId;
    assert.equal(typeof await h.gateway.ping(id, 1000), "number");
    device.transport.close(1000, "");
    await tickUntil(h.clock, () => h.gateway.device(id)?.state === "connecting", "the socket lost");
  } finally {
    await h.close();
  }
});

Deno.test("a device that never finishes its handshake is closed after the handshake timeout", async () => {
  const h = startGateway({ handshakeTimeoutMs: 100 });
  const device = h.device();
  try {
    await device.connect(h.deviceKey.secret);
    await h.clock.tickAsync(80);
    assert.equal(device.closeCode, null, "still open before the timeout");
    await h.clock.tickAsync(60);
    assert.equal((await device.next("ERROR")).payload.code, "handshake-timeout");
    assert.equal(await device.waitClosed(), CloseCodes.handshakeTimeout);
  } finally {
    await h.close();
  }
});

Deno.test("a transport cut mid-stream and resumed delivers every control message exactly once, in order", async () => {
  const h = startGateway();
  let device = h.device();
  try {
    const { ack, ready } = await device.handshake(h.deviceKey.secret, "resumer");
    const deviceId = ready.payload.deviceId;
    const actionIds = (messages: typeof device.received) =>
      messages.filter((m) => m.type === "ACTION_MOVE").map((m) =>
        (m.payload as { actionId: string }).actionId
      );
    // Server → device: the device acknowledges the first two, then stops acknowledging.
    for (let i = 1; i <= 2; i++) h.gateway.send(deviceId, "ACTION_MOVE", { actionId: `a${i}`, x: i, y: i });
    await device.next("ACTION_MOVE");
    await device.next("ACTION_MOVE");
    device.autoAck = false;
    for (let i = 3; i <= 4; i++) h.gateway.send(deviceId, "ACTION_MOVE", { actionId: `a${i}`, x: i, y: i });
    assert.equal((await device.next("ACTION_MOVE")).payload.actionId, "a3");
    // Device → server: three results; the transport drops before the device sees the acks.
    for (let i = 1; i <= 3; i++) device.sendReliable("RESULT", { actionId: `r${i}`, ok: true });
    await until(() => h.delivered.length === 3, "three results");
    device.transport.close();
    await device.closed;
    await until(() => h.gateway.device(deviceId)?.state === "connecting", "the grace state");
    // Sent while the device is away: held for replay.
    h.gateway.send(deviceId, "ACTION_MOVE", { actionId: "a5", x: 5, y: 5 });

    device = h.device();
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
    // A marker sent after the replay: once it is in, anything doubled would have arrived before it.
    h.gateway.send(deviceId, "ACTION_MOVE", { actionId: "marker", x: 0, y: 0 });
    await until(() => actionIds(device.received).includes("marker"), "the marker");
    assert.deepEqual(actionIds(device.received), ["a4", "a5", "marker"], "replayed once, in order");
    const results = h.delivered.map((d) => (d.message.payload as { actionId: string }).actionId);
    assert.deepEqual(results, ["r1", "r2", "r3", "r4"]);
    assert.equal(h.gateway.devices().length, 1, "no duplicate device");
    assert.equal(h.gateway.device(deviceId)?.state, "ready");
    assert.deepEqual(h.offline, [], "the device never went offline");
  } finally {
    await h.close();
  }
});

Deno.test("a dropped session that is not resumed within the grace window ends, and the device goes offline", async () => {
  const h = startGateway({ resumeGraceMs: 500 });
  const device = h.device();
  try {
    const deviceId = (await device.handshake(h.deviceKey.secret, "gone")).ready.payload.deviceId;
    device.transport.close();
    await device.closed;
    await until(() => h.gateway.device(deviceId)?.state === "connecting", "the grace state");
    await h.clock.tickAsync(480);
    assert.equal(h.gateway.device(deviceId)?.state, "connecting", "still waiting inside the window");
    await h.clock.tickAsync(60);
    assert.equal(h.gateway.device(deviceId)?.state, "offline");
    assert.deepEqual(h.offline.map((o) => o.reason), ["connection-lost"]);
  } finally {
    await h.close();
  }
});

Deno.test("device id is stable across a fresh reconnect; a new session replaces one that lost its socket", async () => {
  const h = startGateway();
  const first = h.device();
  const second = h.device();
  try {
    const id1 = (await first.handshake(h.deviceKey.secret, "same-name")).ready.payload.deviceId;
    await first.close();
    await until(() => h.gateway.device(id1)?.state === "connecting", "the grace state");
    const id2 = (await second.handshake(h.deviceKey.secret, "same-name")).ready.payload.deviceId;
    assert.equal(id1, id2);
    assert.deepEqual(h.offline.map((o) => o.reason), ["session-replaced"]);
    assert.equal(h.gateway.devices().length, 1);
    assert.equal(h.gateway.device(id1)?.state, "ready");
  } finally {
    await h.close();
  }
});

Deno.test("hostile input gets coded errors, repeat offenders are cut off, other devices are unaffected", async (t) => {
  const h = startGateway({
    maxErrors: 12,
    limits: { maxFrameBytes: 4096, maxJsonBytes: 1024, maxMessagesPerSecond: 50 },
  });
  const bystander = h.device();
  const attacker = h.device();
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
      new DataView(frame.buffer, frame.byteOffset).setUint32(1, 9999);
      await expectError(frame, "length-mismatch");
    });
    await t.step("an unknown type", async () => {
      const frame = encodeMessage("PONG", { id: 1 }, 0);
      frame[0] = 0x7f;
      await expectError(frame, "unknown-type");
    });
    await t.step(
      "a schema failure",
      () => expectError(encodeMessage("BYE", { reason: 5 } as never, 0), "schema-violation"),
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
      const codes = attacker.received.filter((m) => m.type === "ERROR").map((m) => m.payload.code as string);
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
    await h.close();
  }
});

Deno.test("the router gives each route one owner, and a RESULT goes by its shape", () => {
  const h = startGateway();
  try {
    const seen: string[] = [];
    h.gateway.router.own(["RESULT:action"], (_, m) => seen.push(`action ${m.payload.actionId}`));
    h.gateway.router.own(["RESULT:task"], (_, m) => seen.push(`task ${m.payload.taskId}`));
    assert.throws(() => h.gateway.router.own(["RESULT:task"], () => {}), /already has an owner/);
    const result = (payload: object) => ({
      type: "RESULT" as const,
      payload: { seq: 1, ok: true, ...payload },
      timestampMs: 0,
    });
    h.gateway.router.route("d", result({ actionId: "a1" }));
    h.gateway.router.route("d", result({ taskId: "t1" }));
    assert.equal(
      h.gateway.router.route("d", {
        type: "PROGRESS",
        payload: { seq: 2, taskId: "t", message: "m" },
        timestampMs: 0,
      }),
      false,
    );
    assert.deepEqual(seen, ["action a1", "task t1"]);
  } finally {
    void h.close();
  }
});
