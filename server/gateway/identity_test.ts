import assert from "node:assert/strict";
import { CloseCodes } from "../../shared/protocol/mod.ts";
import { startGateway, until } from "../../tests/helpers/gateway_harness.ts";
import { testCapabilities } from "../../tests/helpers/raw_device.ts";

Deno.test("a second client registering as a connected device is refused; the first keeps its session", async () => {
  const h = startGateway();
  const first = h.device();
  const second = h.device();
  try {
    const { ack, ready } = await first.handshake(h.deviceKey.secret, "twin");
    await second.connect(h.deviceKey.secret);
    second.send("REGISTER_CAPABILITIES", testCapabilities("twin"));
    const refused = await second.next("ERROR");
    assert.equal(refused.payload.code, "device-already-connected");
    assert.match(refused.payload.message, /twin is connected from another client/);
    assert.equal(await second.waitClosed(), CloseCodes.deviceAlreadyConnected);
    // The marker: a PING sent after the refusal comes back from the first client, on its first session.
    assert.notEqual(await h.gateway.ping(ready.payload.deviceId, 2000), null);
    assert.equal(first.closeCode, null, "the first client's socket stays open");
    assert.deepEqual(h.offline, [], "the device never went offline");
    assert.equal(h.gateway.device("twin")?.state, "ready");
    assert.equal(h.gateway.registry.get(ready.payload.deviceId)?.sessionId, ack.payload.sessionId);
  } finally {
    await h.close();
  }
});

Deno.test("a key bound to a device name admits that name only", async () => {
  const h = startGateway();
  const bound = h.keys.add("device", "lab-1 key", { device: "lab-1" });
  const wrong = h.device();
  const right = h.device();
  try {
    await wrong.connect(bound.secret);
    wrong.send("REGISTER_CAPABILITIES", testCapabilities("lab-2"));
    const refused = await wrong.next("ERROR");
    assert.equal(refused.payload.code, "key-bound-to-other-device");
    assert.match(refused.payload.message, /bound to device lab-1; start the client with --name lab-1/);
    assert.equal(await wrong.waitClosed(), CloseCodes.unauthorized);
    assert.equal(h.gateway.device("lab-2"), undefined, "nothing registered");
    const { ready } = await right.handshake(bound.secret, "lab-1");
    assert.equal(ready.payload.name, "lab-1");
    assert.equal(ready.payload.credential, undefined, "a bound key gets no credential");
  } finally {
    await h.close();
  }
});

Deno.test("an enrollment key mints each device its own key; revoking one drops that device only", async () => {
  const h = startGateway();
  const enrollment = h.keys.add("enroll", "lab enrollment");
  const a = h.device();
  const b = h.device();
  const aAgain = h.device();
  const copycat = h.device();
  try {
    const readyA = (await a.handshake(enrollment.secret, "lab-a")).ready.payload;
    const readyB = (await b.handshake(enrollment.secret, "lab-b")).ready.payload;
    assert.ok(readyA.credential && readyB.credential, "READY carries the minted key");
    assert.notEqual(readyA.credential.keyId, readyB.credential.keyId);
    assert.equal(readyA.credential.keyId, h.gateway.device("lab-a")?.keyId, "the device runs under it");
    assert.deepEqual(
      { ...h.keys.verify(readyA.credential.secret), id: "" },
      {
        id: "",
        scope: "device",
        name: "lab-a",
        createdAt: 0,
        revokedAt: null,
        device: "lab-a",
        enrolledBy: enrollment.id,
      },
    );

    await a.close();
    const again = (await aAgain.handshake(readyA.credential.secret, "lab-a")).ready.payload;
    assert.equal(again.deviceId, readyA.deviceId, "the stored key gives the same device");
    assert.equal(again.credential, undefined, "no new key for a device that holds one");

    await copycat.connect(enrollment.secret);
    copycat.send("REGISTER_CAPABILITIES", testCapabilities("lab-a"));
    const refused = await copycat.next("ERROR");
    assert.equal(refused.payload.code, "device-already-enrolled");
    assert.equal(await copycat.waitClosed(), CloseCodes.unauthorized);

    h.keys.revoke(readyA.credential.keyId);
    assert.equal(await aAgain.waitClosed(), CloseCodes.keyRevoked);
    assert.equal(h.gateway.device(readyA.deviceId)?.state, "offline");
    assert.notEqual(await h.gateway.ping(readyB.deviceId, 2000), null, "the other device is untouched");
    assert.equal(b.closeCode, null);
    assert.deepEqual(h.offline.map((o) => o.reason), ["session-replaced", "key-revoked"]);
  } finally {
    await h.close();
  }
});

Deno.test("an enrolled device resuming with the enrollment key gets its minted key again in READY", async () => {
  const h = startGateway();
  const enrollment = h.keys.add("enroll", "lab enrollment");
  const first = h.device();
  const lostReady = h.device();
  const resumed = h.device();
  try {
    const { ack, ready } = await first.handshake(enrollment.secret, "lab-r");
    const sessionId = ack.payload.sessionId;
    await first.close();
    // As if READY had been lost with the socket: the device only knows its session and the enrollment key.
    const ack2 = await lostReady.connect(enrollment.secret, { sessionId, lastSeq: 0 });
    assert.equal(ack2.payload.resumed, true);
    assert.deepEqual((await lostReady.next("READY")).payload.credential, ready.payload.credential);
    await lostReady.close();
    const ack3 = await resumed.connect(ready.payload.credential!.secret, { sessionId, lastSeq: 0 });
    assert.equal(ack3.payload.resumed, true, "the minted key resumes the same session");
    assert.equal((await resumed.next("READY")).payload.credential, undefined);
    await until(() => h.gateway.device("lab-r")?.state === "ready", "ready again");
    assert.deepEqual(h.offline, []);
  } finally {
    await h.close();
  }
});
