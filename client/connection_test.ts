import assert from "node:assert/strict";
import { systemClock } from "../shared/clock.ts";
import { decodeFrame, encodeMessage, type Message, type MessageType } from "../shared/protocol/mod.ts";
import { startGateway, until } from "../tests/helpers/gateway_harness.ts";
import { testCapabilities } from "../tests/helpers/raw_device.ts";
import { DeviceConnection } from "./connection.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

/** A connection whose socket reports every frame the server sent. */
function connect(url: string, key: string, fromServer: Message[]) {
  const connection = new DeviceConnection({
    url,
    key,
    clientVersion: "test/1",
    clock: systemClock,
    capabilities: () => Promise.resolve(testCapabilities("paced")),
    onMessage: () => {},
    openSocket: (target) => {
      const socket = new WebSocket(target);
      socket.addEventListener("message", (event) => {
        const decoded = decodeFrame(new Uint8Array(event.data as ArrayBuffer));
        if (decoded.ok) fromServer.push(decoded.value);
      });
      return socket;
    },
  });
  connection.start();
  return connection;
}

Deno.test(
  "DeviceConnection paces itself to the announced rate: 150 reliable messages at 50/s all arrive in order and none is refused",
  live,
  async () => {
    const h = startGateway({
      limits: { maxFrameBytes: 65536, maxJsonBytes: 16384, maxMessagesPerSecond: 50 },
    });
    const fromServer: Message[] = [];
    const connection = connect(h.url, h.deviceKey.secret, fromServer);
    try {
      await connection.ready;
      for (let i = 1; i <= 150; i++) connection.send("RESULT", { actionId: `a${i}`, ok: true });
      assert.ok(connection.queuedMessages > 0, "what exceeds the rate waits in the client");
      await until(() => h.delivered.length === 150, "150 messages delivered", 10_000);
      assert.deepEqual(
        h.delivered.map((d) => (d.message.payload as { actionId: string }).actionId),
        Array.from({ length: 150 }, (_, i) => `a${i + 1}`),
      );
      await until(
        () => fromServer.some((m) => m.type === "SEQ_ACK" && m.payload.seq === 150),
        "the last SEQ_ACK",
      );
      assert.deepEqual(fromServer.filter((m) => m.type === "ERROR").map((m) => m.payload), [], "no refusal");
    } finally {
      connection.stop();
      await connection.stopped;
      await h.close();
    }
  },
);

Deno.test(
  "DeviceConnection refused with rate-limited waits retryAfterMs, then resends the refused seq and every later one, in order",
  live,
  async () => {
    const arrivals: Array<{ seq: number; atMs: number }> = [];
    let refusedAtMs = 0;
    let discarding: number | null = null;
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
      const { socket, response } = Deno.upgradeWebSocket(request);
      socket.binaryType = "arraybuffer";
      const send = (type: MessageType, payload: unknown) =>
        socket.send(encodeMessage(type, payload as never, Date.now()));
      socket.onmessage = (event) => {
        const decoded = decodeFrame(new Uint8Array(event.data as ArrayBuffer));
        if (!decoded.ok) return;
        const message = decoded.value;
        if (message.type === "CONNECT") {
          send("ACK", {
            sessionId: "s1",
            protocolVersion: 1,
            heartbeatIntervalMs: 10_000,
            heartbeatTimeoutMs: 30_000,
            limits: { maxFrameBytes: 65536, maxJsonBytes: 16384, maxMessagesPerSecond: 1000 },
            resumed: false,
            lastSeq: 0,
          });
        } else if (message.type === "REGISTER_CAPABILITIES") {
          send("READY", { deviceId: "dev_1", name: "paced" });
        } else if (message.type === "RESULT") {
          const seq = message.payload.seq;
          // This server plays the rule: refuse seq 3 once, discard what follows until 3 comes again.
          if (seq === 3 && refusedAtMs === 0) {
            refusedAtMs = Date.now();
            discarding = 3;
            send("ERROR", {
              code: "rate-limited",
              message: "Cannot accept message: rate limit exceeded",
              ref: "3",
              retryAfterMs: 150,
            });
            return;
          }
          if (discarding !== null && seq > discarding) return;
          if (seq === discarding) discarding = null;
          arrivals.push({ seq, atMs: Date.now() });
        }
      };
      return response;
    });
    const connection = connect(`ws://127.0.0.1:${server.addr.port}/v1/device`, "k", []);
    try {
      await connection.ready;
      for (let i = 1; i <= 5; i++) connection.send("RESULT", { actionId: `a${i}`, ok: true });
      await until(() => arrivals.length === 5, "five RESULTs accepted", 5000);
      assert.deepEqual(arrivals.map((a) => a.seq), [1, 2, 3, 4, 5], "each once, in order");
      const resent = arrivals.find((a) => a.seq === 3)!;
      assert.ok(resent.atMs - refusedAtMs >= 150, `resent after ${resent.atMs - refusedAtMs} ms, asked 150`);
      connection.send("RESULT", { actionId: "a6", ok: true });
      await until(() => arrivals.length === 6, "a new message after the resend", 5000);
      assert.equal(arrivals[5].seq, 6);
    } finally {
      connection.stop();
      await connection.stopped;
      await server.shutdown();
    }
  },
);
