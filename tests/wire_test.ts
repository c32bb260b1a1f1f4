/** Frames built by hand, byte by byte, with no help from the codec; the server's replies are read the same way. */
import assert from "node:assert/strict";
import { until } from "./helpers/gateway_harness.ts";
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

/** A big-endian unsigned integer of `size` bytes at `offset`. */
function uint(bytes: Uint8Array, offset: number, size: number): number {
  let value = 0n;
  for (let i = offset; i < offset + size; i++) value = (value << 8n) | BigInt(bytes[i]);
  return Number(value);
}

function parse(
  bytes: Uint8Array,
): { type: number; length: number; timestampMs: number; payload: Uint8Array; json: Record<string, unknown> } {
  const length = uint(bytes, 1, 4);
  assert.equal(length, bytes.length - 13, "the length field counts exactly the payload bytes");
  const payload = bytes.slice(13);
  // PING (0x05) is packed in version 2: not JSON.
  const json = bytes[0] === 0x05 ? {} : JSON.parse(new TextDecoder().decode(payload));
  return { type: bytes[0], length, timestampMs: uint(bytes, 5, 8), payload, json };
}

/** A PING's packed payload, read by hand: u64 id, u64 sentAtMs. */
function pingOf(frame: { type: number; payload: Uint8Array }): { id: number; sentAtMs: number } {
  assert.equal(frame.type, 0x05);
  assert.equal(frame.payload.length, 16, "a packed PING is 16 bytes");
  return { id: uint(frame.payload, 0, 8), sentAtMs: uint(frame.payload, 8, 8) };
}

/** A packed PONG payload, built by hand: u64 id. */
function pongPayload(id: number): Uint8Array {
  const payload = new Uint8Array(8);
  let rest = BigInt(id);
  for (let i = 7; i >= 0; i--, rest >>= 8n) payload[i] = Number(rest & 0xffn);
  return payload;
}

/** A socket to the server whose replies are read as raw frames. */
async function openRaw(url: string) {
  const socket = new WebSocket(url);
  socket.binaryType = "arraybuffer";
  const replies: Uint8Array[] = [];
  let wake = () => {};
  let closeCode: number | null = null;
  socket.onmessage = (event) => {
    replies.push(new Uint8Array(event.data as ArrayBuffer));
    wake();
  };
  socket.onclose = (event) => {
    closeCode = event.code;
    wake();
  };
  await new Promise((resolve) => (socket.onopen = resolve));
  /** The next reply; PINGs are kept aside in `pings` unless `type` asks for one. */
  const pings: ReturnType<typeof parse>[] = [];
  const next = async (type?: number) => {
    while (true) {
      while (replies.length === 0) {
        if (closeCode !== null) throw new Error(`closed (${closeCode}) while waiting`);
        await new Promise<void>((resolve) => (wake = resolve));
      }
      const frame = parse(replies.shift()!);
      if (frame.type === 0x05 && type !== 0x05) pings.push(frame);
      else return frame;
    }
  };
  const closed = () =>
    new Promise<number>((resolve) => {
      if (closeCode !== null) return resolve(closeCode);
      socket.addEventListener("close", (event) => resolve(event.code), { once: true });
    });
  return { socket, next, pings, closed };
}

function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

Deno.test(
  "hand-built frames get byte-exact replies: CONNECT → ACK, capabilities → READY, unknown type → ERROR",
  live,
  async () => {
    const server = await startTestServer();
    const { socket, next } = await openRaw(server.wsUrl);
    try {
      const before = Date.now();
      socket.send(
        frame(
          0x01,
          ascii(`{"protocolVersion":2,"token":"${server.deviceKey}","clientVersion":"wire/1"}`),
          before,
        ),
      );
      const ack = await next();
      assert.equal(ack.type, 0x02, "ACK is type 0x02");
      const after = Date.now();
      assert.ok(
        ack.timestampMs >= before && ack.timestampMs <= after,
        `timestamp is Unix ms, stamped between the CONNECT and its arrival: ${ack.timestampMs}`,
      );
      assert.equal(ack.json.protocolVersion, 2);
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

      const lying = frame(0x06, pongPayload(1), Date.now());
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

Deno.test(
  "the server's PING is packed (u64 id, u64 sentAtMs) and a hand-packed PONG answers it: the device's RTT is measured",
  live,
  async () => {
    const server = await startTestServer([
      "--heartbeat-interval-ms",
      "200",
      "--heartbeat-timeout-ms",
      "5000",
    ]);
    const { socket, next } = await openRaw(server.wsUrl);
    try {
      const connect = `{"protocolVersion":2,"token":"${server.deviceKey}","clientVersion":"wire/1"}`;
      const before = Date.now();
      socket.send(frame(0x01, ascii(connect), before));
      await next();
      socket.send(frame(0x03, ascii(`{"name":"wire-ping","os":{"platform":"linux"}}`), Date.now()));
      const ready = await next();
      const ping = pingOf(await next(0x05));
      const after = Date.now();
      assert.ok(ping.id >= 1, "ids count from 1");
      assert.ok(
        ping.sentAtMs >= before && ping.sentAtMs <= after,
        `sentAtMs is the server's Unix ms, between the CONNECT and the PING's arrival: ${ping.sentAtMs}`,
      );
      socket.send(frame(0x06, pongPayload(ping.id), Date.now()));
      const id = ready.json.deviceId as string;
      let rttMs: number | null = null;
      await until(() => rttMs !== null, "the PONG to be understood and timed", 3000, async () => {
        rttMs = (await (await server.api(`/api/devices/${id}`)).json()).rttMs;
      });
      assert.equal(typeof rttMs, "number", "the PONG was understood and timed");
    } finally {
      socket.close();
      await server.close();
    }
  },
);

Deno.test(
  "a version 1 client gets ERROR version-unsupported as plain JSON, saying to update the client, then close 4002",
  live,
  async () => {
    const server = await startTestServer();
    const { socket, next, closed } = await openRaw(server.wsUrl);
    try {
      const connect = `{"protocolVersion":1,"token":"${server.deviceKey}","clientVersion":"old/0.9"}`;
      socket.send(frame(0x01, ascii(connect), Date.now()));
      const error = await next();
      assert.equal(error.type, 0x09);
      assert.equal(error.json.code, "version-unsupported");
      assert.equal(
        error.json.message,
        "Cannot connect: protocol version not supported: client speaks 1, server supports 2..2; update the client",
      );
      assert.equal(await closed(), 4002);
    } finally {
      socket.close();
      await server.close();
    }
  },
);

Deno.test(
  "a message of two frames gets each answered, and the two ERRORs the server writes in that turn come as one message",
  live,
  async () => {
    const server = await startTestServer();
    const socket = new WebSocket(server.wsUrl);
    socket.binaryType = "arraybuffer";
    const messages: Uint8Array[] = [];
    let wake = () => {};
    socket.onmessage = (event) => {
      messages.push(new Uint8Array(event.data as ArrayBuffer));
      wake();
    };
    const nextMessage = async () => {
      while (messages.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      return messages.shift()!;
    };
    try {
      await new Promise((resolve) => (socket.onopen = resolve));
      const connect = `{"protocolVersion":2,"token":"${server.deviceKey}","clientVersion":"wire/1"}`;
      socket.send(frame(0x01, ascii(connect), Date.now()));
      await nextMessage();
      socket.send(frame(0x03, ascii(`{"name":"wire-batch","os":{"platform":"linux"}}`), Date.now()));
      await nextMessage();
      const first = frame(0x7f, ascii("{}"), Date.now());
      const second = frame(0x7e, ascii("{}"), Date.now());
      socket.send(Uint8Array.from([...first, ...second]));
      let message = await nextMessage();
      while (message[0] === 0x05) message = await nextMessage(); // a heartbeat PING, in its own turn
      // Split by hand: each frame's Length says where the next begins.
      const frames: ReturnType<typeof parse>[] = [];
      for (let offset = 0; offset < message.length;) {
        const end = offset + 13 + uint(message, offset + 1, 4);
        frames.push(parse(message.slice(offset, end)));
        offset = end;
      }
      assert.deepEqual(frames.map((f) => [f.type, f.json.code, f.json.message]), [
        [0x09, "unknown-type", "Cannot decode frame: unknown message type: 0x7f"],
        [0x09, "unknown-type", "Cannot decode frame: unknown message type: 0x7e"],
      ]);
    } finally {
      socket.close();
      await server.close();
    }
  },
);
