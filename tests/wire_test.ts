/** Frames built by hand, byte by byte, with no help from the codec; the server's replies are read the same way. */
import assert from "node:assert/strict";
import { startTestServer } from "./helpers/server.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

function frame(type: number, payload: Uint8Array, timestampMs: number): Uint8Array {
  const bytes = new Uint8Array(13 + payload.length);
  bytes[0] = type;
  bytes[1] = (payload.length >>> 24) & 0xff;
  bytes[2] = (payload.length >>> 16) & 0xff;
  bytes[3] = (payload.length >>> 8) & 0xff;
  bytes[4] = payload.length & 0xff;
  let ts = BigInt(timestampMs);
  for (let i = 12; i >= 5; i--) {
    bytes[i] = Number(ts & 0xffn);
    ts >>= 8n;
  }
  bytes.set(payload, 13);
  return bytes;
}

function parse(
  bytes: Uint8Array,
): { type: number; length: number; timestampMs: number; json: Record<string, unknown> } {
  const length = ((bytes[1] << 24) >>> 0) + (bytes[2] << 16) + (bytes[3] << 8) + bytes[4];
  let ts = 0n;
  for (let i = 5; i < 13; i++) ts = (ts << 8n) | BigInt(bytes[i]);
  assert.equal(length, bytes.length - 13, "the length field counts exactly the payload bytes");
  return {
    type: bytes[0],
    length,
    timestampMs: Number(ts),
    json: JSON.parse(new TextDecoder().decode(bytes.slice(13))),
  };
}

function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

Deno.test(
  "hand-built frames get byte-exact replies: CONNECT → ACK, capabilities → READY, unknown type → ERROR",
  live,
  async () => {
    const server = await startTestServer();
    const socket = new WebSocket(server.wsUrl);
    socket.binaryType = "arraybuffer";
    const replies: Uint8Array[] = [];
    let wake = () => {};
    socket.onmessage = (event) => {
      replies.push(new Uint8Array(event.data as ArrayBuffer));
      wake();
    };
    const next = async () => {
      while (replies.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      return parse(replies.shift()!);
    };
    try {
      await new Promise((resolve) => (socket.onopen = resolve));
      const before = Date.now();
      socket.send(
        frame(
          0x01,
          ascii(`{"protocolVersion":1,"token":"${server.deviceKey}","clientVersion":"wire/1"}`),
          before,
        ),
      );
      const ack = await next();
      assert.equal(ack.type, 0x02, "ACK is type 0x02");
      assert.ok(
        ack.timestampMs >= before - 1000 && ack.timestampMs <= Date.now() + 1000,
        "timestamp is Unix ms",
      );
      assert.equal(ack.json.protocolVersion, 1);
      assert.equal(ack.json.resumed, false);
      assert.equal(typeof ack.json.sessionId, "string");

      const caps = `{"name":"wire","os":{"platform":"linux"},"screens":[{"width":640,"height":480}]}`;
      socket.send(frame(0x03, ascii(caps), Date.now()));
      const ready = await next();
      assert.equal(ready.type, 0x04, "READY is type 0x04");
      assert.equal(ready.json.name, "wire");

      socket.send(frame(0x7f, ascii("{}"), Date.now()));
      const error = await next();
      assert.equal(error.type, 0x09, "ERROR is type 0x09");
      assert.equal(error.json.code, "unknown-type");
      assert.match(String(error.json.message), /0x7f/);

      const lying = frame(0x06, ascii(`{"id":1}`), Date.now());
      lying[4] = 99;
      socket.send(lying);
      assert.equal((await next()).json.code, "length-mismatch");

      const listed = await (await server.api("/api/devices")).json();
      assert.deepEqual(listed.devices[0].capabilities.screens, [{ width: 640, height: 480 }]);
    } finally {
      socket.close();
      await server.close();
    }
  },
);
