/**
 * Over-size WebSocket messages against the real server on its default limits: what the runtime lets
 * through gets ERROR frame-too-large (and, for a reliable type, a close); what it does not never reaches
 * the server, exactly at the size PROTOCOL.md and `--max-frame-bytes` name.
 */
import assert from "node:assert/strict";
import { MessageTypes } from "../shared/protocol/mod.ts";
import { RUNTIME_MAX_MESSAGE_BYTES } from "../server/config.ts";
import { until } from "./helpers/gateway_harness.ts";
import { RawDevice } from "./helpers/raw_device.ts";
import { startTestServer } from "./helpers/server.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

/** A frame of `byteLength` bytes whose header is well formed: type, payload length, timestamp 0. */
function oversize(type: keyof typeof MessageTypes, byteLength: number): Uint8Array {
  const bytes = new Uint8Array(byteLength);
  bytes[0] = MessageTypes[type].code;
  new DataView(bytes.buffer).setUint32(1, byteLength - 13);
  return bytes;
}

Deno.test(
  "an over-size reliable frame gets ERROR frame-too-large, then close 4009, and the device goes offline",
  live,
  async () => {
    const server = await startTestServer();
    const device = await RawDevice.open(server.wsUrl);
    try {
      const { ready } = await device.handshake(server.deviceKey, "too-big");
      device.sendRaw(oversize("RESULT", server.config.maxFrameBytes + 1));
      const error = await device.next("ERROR", 10_000);
      assert.equal(error.payload.code, "frame-too-large");
      assert.equal(error.payload.ref, "RESULT");
      assert.equal(await device.waitClosed(10_000), 4009);
      await until(
        () => server.gateway.device(ready.payload.deviceId)?.state === "offline",
        "the device offline",
      );
    } finally {
      await device.close();
      await server.close();
    }
  },
);

Deno.test(
  "an over-size unreliable frame gets ERROR frame-too-large and the connection carries on",
  live,
  async () => {
    const server = await startTestServer();
    const device = await RawDevice.open(server.wsUrl);
    try {
      await device.handshake(server.deviceKey, "big-picture");
      device.sendRaw(oversize("STREAM_FRAME", server.config.maxFrameBytes + 1));
      assert.equal((await device.next("ERROR", 10_000)).payload.code, "frame-too-large");
      const seq = device.sendReliable("RESULT", { actionId: "after", ok: true });
      assert.equal((await device.next("SEQ_ACK")).payload.seq, seq, "the next message is still taken");
    } finally {
      await device.close();
      await server.close();
    }
  },
);

Deno.test(
  "the runtime hands over a 64 MiB − 1 byte message (ERROR frame-too-large, close 4009) and drops a 64 MiB one unread",
  live,
  async () => {
    const server = await startTestServer();
    try {
      const largest = await RawDevice.open(server.wsUrl);
      await largest.handshake(server.deviceKey, "largest");
      largest.sendRaw(oversize("RESULT", RUNTIME_MAX_MESSAGE_BYTES));
      assert.equal((await largest.next("ERROR", 20_000)).payload.code, "frame-too-large");
      assert.equal(await largest.waitClosed(20_000), 4009);

      const beyond = await RawDevice.open(server.wsUrl);
      await beyond.handshake(server.deviceKey, "beyond");
      beyond.sendRaw(oversize("RESULT", RUNTIME_MAX_MESSAGE_BYTES + 1));
      const code = await beyond.waitClosed(20_000);
      assert.ok(code !== 4009, `the runtime, not the server, closed it (code ${code})`);
      assert.deepEqual(beyond.received.filter((m) => m.type === "ERROR"), [], "no ERROR could be sent");
    } finally {
      await server.close();
    }
  },
);
