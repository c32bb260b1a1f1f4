import assert from "node:assert/strict";
import {
  decodeFrames,
  DEFAULT_LIMITS,
  encodeMessage,
  type Message,
  type MessageType,
  type PayloadInputOf,
  PROTOCOL_VERSION,
} from "../shared/protocol/mod.ts";
import { type FakeClock, fakeClock } from "../shared/testing/fake_clock.ts";
import { memoryPair, type MemoryTransport } from "../shared/transport/memory.ts";
import { TlsError, type Transport } from "../shared/transport/transport.ts";
import { type Harness, startGateway, tickUntil, until } from "../tests/helpers/gateway_harness.ts";
import { testCapabilities } from "../tests/helpers/raw_device.ts";
import { DeviceConnection, type StopReason } from "./connection.ts";

/** Every message in `messages` (each holds one or more frames), decoded. */
function decodeAll(messages: Uint8Array[]): Message[] {
  const out: Message[] = [];
  for (const bytes of messages) {
    decodeFrames(bytes, DEFAULT_LIMITS, (_, d) => d.ok && out.push(d.value), null);
  }
  return out;
}

/** What the server wrote to a device, decoded (its end of the pair keeps every message sent). */
function fromServer(transports: MemoryTransport[]): Message[] {
  return decodeAll(transports.flatMap((t) => t.peer!.sent));
}

/**
 * A real DeviceConnection named `name` presenting `key` to a gateway harness over in-memory transports;
 * records the transports it got, the messages it received, its statuses and the credentials handed over.
 */
function deviceFor(h: Harness, key = h.deviceKey.secret, name = "paced") {
  const transports: MemoryTransport[] = [];
  const received: Message[] = [];
  const statuses: string[] = [];
  const credentials: string[] = [];
  const connection = new DeviceConnection({
    url: "memory:",
    key,
    clientVersion: "test/1",
    clock: h.clock,
    random: () => 0.5,
    connect: () => {
      const transport = h.transport();
      transports.push(transport);
      return Promise.resolve(transport);
    },
    capabilities: () => Promise.resolve(testCapabilities(name)),
    onMessage: (message) => received.push(message),
    onStatus: (status, detail) => statuses.push(`${status}: ${detail ?? ""}`),
    onCredential: (credential) => credentials.push(credential.secret),
  });
  connection.start();
  return { connection, transports, received, statuses, credentials };
}

/** Stops a connection, lets its BYE and close run on the fake clock, and waits until it has stopped. */
async function stop(connection: DeviceConnection, clock: FakeClock): Promise<void> {
  connection.stop();
  await clock.tickAsync(1000);
  await connection.stopped;
}

Deno.test("DeviceConnection paces itself to the announced rate: 150 reliable messages at 50/s all arrive in order and none is refused", async () => {
  const h = startGateway({ limits: { maxFrameBytes: 65536, maxJsonBytes: 16384, maxMessagesPerSecond: 50 } });
  const { connection, transports } = deviceFor(h);
  try {
    await connection.ready;
    for (let i = 1; i <= 150; i++) connection.send("RESULT", { actionId: `a${i}`, ok: true });
    assert.ok(connection.queuedMessages > 0, "what exceeds the rate waits in the client");
    await tickUntil(h.clock, () => h.delivered.length === 150, "150 messages delivered", { stepMs: 50 });
    assert.ok(
      h.clock.now() - 1_700_000_000_000 >= 2000,
      "at 50/s with a burst of 50 they took over two seconds",
    );
    assert.deepEqual(
      h.delivered.map((d) => (d.message.payload as { actionId: string }).actionId),
      Array.from({ length: 150 }, (_, i) => `a${i + 1}`),
    );
    await tickUntil(
      h.clock,
      () => fromServer(transports).some((m) => m.type === "SEQ_ACK" && m.payload.seq === 150),
      "the last SEQ_ACK",
    );
    assert.deepEqual(
      fromServer(transports).filter((m) => m.type === "ERROR").map((m) => m.payload),
      [],
      "no refusal",
    );
  } finally {
    await stop(connection, h.clock);
    await h.close();
  }
});

/**
 * A hand-played server on the other end of an in-memory pair; `read` settles once every connection's
 * messages have all been read (the device closed it).
 */
function fakeServer(clock: FakeClock, onMessage: (message: Message, send: Send) => void) {
  const served: MemoryTransport[] = [];
  const reads: Promise<void>[] = [];
  const connect = (): Promise<Transport> => {
    const [device, server] = memoryPair();
    served.push(server);
    const send: Send = (type, payload) => server.send(encodeMessage(type, payload as never, clock.now()));
    reads.push((async () => {
      for await (const bytes of server) {
        if (typeof bytes === "string") continue;
        for (const message of decodeAll([bytes])) onMessage(message, send);
      }
    })());
    return Promise.resolve(device);
  };
  return { connect, served, read: () => Promise.all(reads).then(() => {}) };
}
type Send = <T extends MessageType>(type: T, payload: PayloadInputOf<T>) => void;

function ack(resumed = false, lastSeq = 0): PayloadInputOf<"ACK"> {
  return {
    sessionId: "s1",
    protocolVersion: PROTOCOL_VERSION,
    heartbeatIntervalMs: 10_000,
    heartbeatTimeoutMs: 30_000,
    limits: { maxFrameBytes: 65536, maxJsonBytes: 16384, maxMessagesPerSecond: 1000 },
    resumed,
    lastSeq,
  };
}

function connectionTo(clock: FakeClock, connect: () => Promise<Transport>, key = "k") {
  const connection = new DeviceConnection({
    url: "memory:",
    key,
    clientVersion: "test/1",
    clock,
    random: () => 0.5,
    connect,
    capabilities: () => Promise.resolve(testCapabilities("hand-played")),
    onMessage: () => {},
  });
  connection.start();
  return connection;
}

Deno.test("DeviceConnection refused with rate-limited waits retryAfterMs, then resends the refused seq and every later one, in order", async () => {
  const clock = fakeClock();
  const arrivals: Array<{ seq: number; atMs: number }> = [];
  let refusedAtMs = 0;
  let discarding: number | null = null;
  const server = fakeServer(clock, (message, send) => {
    if (message.type === "CONNECT") send("ACK", ack());
    else if (message.type === "REGISTER_CAPABILITIES") send("READY", { deviceId: "dev_1", name: "paced" });
    else if (message.type === "RESULT") {
      const seq = message.payload.seq;
      // This server plays the rule: refuse seq 3 once, discard what follows until 3 comes again.
      if (seq === 3 && refusedAtMs === 0) {
        refusedAtMs = clock.now();
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
      arrivals.push({ seq, atMs: clock.now() });
    }
  });
  const connection = connectionTo(clock, server.connect);
  try {
    await connection.ready;
    for (let i = 1; i <= 5; i++) connection.send("RESULT", { actionId: `a${i}`, ok: true });
    await until(() => refusedAtMs > 0, "the refusal");
    await clock.tickAsync(140);
    assert.deepEqual(arrivals.map((a) => a.seq), [1, 2], "nothing resent before retryAfterMs");
    await tickUntil(clock, () => arrivals.length === 5, "five RESULTs accepted");
    assert.deepEqual(arrivals.map((a) => a.seq), [1, 2, 3, 4, 5], "each once, in order");
    assert.ok(
      arrivals[2].atMs - refusedAtMs >= 150,
      `resent after ${arrivals[2].atMs - refusedAtMs} ms, asked 150`,
    );
    connection.send("RESULT", { actionId: "a6", ok: true });
    await tickUntil(clock, () => arrivals.length === 6, "a new message after the resend");
    assert.equal(arrivals[5].seq, 6);
  } finally {
    await stop(connection, clock);
  }
});

Deno.test("DeviceConnection reconnects after a drop with backoff, resumes its session, and loses or doubles nothing", async () => {
  const h = startGateway();
  const { connection, transports, received } = deviceFor(h);
  try {
    await connection.ready;
    const deviceId = connection.deviceId!;
    h.gateway.send(deviceId, "ACTION_MOVE", { actionId: "m1", x: 1, y: 1 });
    await until(() => received.length === 1, "the first action");
    transports[0].close(1006, "cut");
    await until(() => h.gateway.device(deviceId)?.state === "connecting", "the grace state");
    connection.send("RESULT", { actionId: "while-away", ok: true });
    h.gateway.send(deviceId, "ACTION_MOVE", { actionId: "m2", x: 2, y: 2 });
    await h.clock.tickAsync(100);
    assert.equal(transports.length, 1, "backoff: no reconnect at once");
    await tickUntil(
      h.clock,
      () => transports.length === 2 && h.gateway.device(deviceId)?.state === "ready",
      "the resume",
    );
    await until(() => received.length === 2, "the action sent while away");
    h.gateway.send(deviceId, "ACTION_MOVE", { actionId: "marker", x: 3, y: 3 });
    await until(() => received.length === 3, "the marker");
    assert.deepEqual(received.map((m) => (m.payload as { actionId: string }).actionId), [
      "m1",
      "m2",
      "marker",
    ]);
    assert.deepEqual(
      h.delivered.map((d) => (d.message.payload as { actionId: string }).actionId),
      ["while-away"],
      "the result written while away arrived once",
    );
    assert.deepEqual(h.offline, [], "the device never went offline");
  } finally {
    await stop(connection, h.clock);
    await h.close();
  }
});

Deno.test("DeviceConnection's watchdog drops a silent server after the heartbeat timeout and reconnects", async () => {
  const clock = fakeClock();
  let connects = 0;
  const server = fakeServer(clock, (message, send) => {
    if (message.type === "CONNECT") {
      connects++;
      send("ACK", { ...ack(), heartbeatTimeoutMs: 1000 });
    } else if (message.type === "REGISTER_CAPABILITIES") send("READY", { deviceId: "dev_1", name: "x" });
  });
  const connection = connectionTo(clock, server.connect);
  try {
    await connection.ready;
    await clock.tickAsync(900);
    assert.equal(server.served[0].isOpen, true, "still connected inside the timeout");
    await tickUntil(clock, () => connects === 2, "a new connection after the silence");
    const closed = await server.served[0].closed;
    assert.equal(closed.code, 4004);
  } finally {
    await stop(connection, clock);
  }
});

Deno.test("DeviceConnection stops for good on a refused key, and when the server was never reachable", async (t) => {
  await t.step("unauthorized is fatal", async () => {
    const clock = fakeClock();
    const server = fakeServer(clock, (message, send) => {
      if (message.type === "CONNECT") send("ERROR", { code: "unauthorized", message: "Cannot authenticate" });
    });
    const connection = connectionTo(clock, server.connect);
    await clock.tickAsync(1100);
    const reason: StopReason = await connection.stopped;
    assert.deepEqual([reason.kind, reason.code], ["fatal", "unauthorized"]);
  });
  await t.step("three failed first attempts end as unreachable", async () => {
    const clock = fakeClock();
    let attempts = 0;
    const connection = connectionTo(clock, () => {
      attempts++;
      return Promise.reject(new Error("Cannot connect to memory: connection closed (1006)"));
    });
    await tickUntil(clock, () => attempts === 3, "three attempts");
    const reason = await connection.stopped;
    assert.equal(reason.kind, "unreachable");
    assert.match(reason.message, /Cannot reach memory:/);
  });
});

Deno.test("DeviceConnection stops at once on a TLS refusal before its first READY, and retries one after it", async (t) => {
  await t.step("before READY: one attempt, stopped as tls with the transport's message", async () => {
    const clock = fakeClock();
    let attempts = 0;
    const connection = connectionTo(clock, () => {
      attempts++;
      return Promise.reject(
        new TlsError("Cannot connect to memory: the server's certificate is not trusted", "untrusted"),
      );
    });
    const reason = await connection.stopped;
    assert.deepEqual(reason, {
      kind: "tls",
      message: "Cannot connect to memory: the server's certificate is not trusted",
    });
    await clock.tickAsync(60_000);
    assert.equal(attempts, 1, "no retry");
  });
  await t.step(
    "after READY: a refused reconnect is retried with backoff like any lost connection",
    async () => {
      const clock = fakeClock();
      let refusals = 0;
      const server = fakeServer(clock, (message, send) => {
        if (message.type === "CONNECT") send("ACK", ack());
        else if (message.type === "REGISTER_CAPABILITIES") send("READY", { deviceId: "dev_1", name: "x" });
      });
      const connection = connectionTo(clock, () => {
        if (server.served.length === 1 && refusals < 2) {
          refusals++;
          return Promise.reject(
            new TlsError("Cannot connect to memory: fingerprint mismatch", "fingerprint-mismatch"),
          );
        }
        return server.connect();
      });
      try {
        await connection.ready;
        server.served[0].close(1006, "cut");
        await tickUntil(
          clock,
          () => server.served.length === 2 && connection.isReady,
          "the reconnect after two refusals",
        );
        assert.equal(refusals, 2);
      } finally {
        await stop(connection, clock);
      }
    },
  );
});

/** The CONNECT tokens a device sent, in order. */
function tokensSent(transports: MemoryTransport[]): string[] {
  return decodeAll(transports.flatMap((t) => t.sent)).flatMap((m) =>
    m.type === "CONNECT" ? [m.payload.token] : []
  );
}

Deno.test("DeviceConnection enrolling hands over the minted key once and presents it on every later CONNECT", async () => {
  const h = startGateway();
  const enrollment = h.keys.add("enroll", "lab");
  const { connection, transports, credentials } = deviceFor(h, enrollment.secret, "lab-7");
  try {
    await connection.ready;
    assert.equal(credentials.length, 1);
    assert.equal(h.keys.verify(credentials[0])?.device, "lab-7");
    transports[0].close(1006, "cut");
    await tickUntil(h.clock, () => transports.length === 2 && connection.isReady, "the resume");
    assert.deepEqual(tokensSent(transports), [enrollment.secret, credentials[0]]);
    assert.equal(credentials.length, 1, "a resume mints nothing");
    assert.deepEqual(h.offline, []);
  } finally {
    await stop(connection, h.clock);
    await h.close();
  }
});

Deno.test("DeviceConnection refused as a second client keeps trying past the unreachable limit and joins once the first is gone", async () => {
  const h = startGateway();
  const first = h.device();
  const deviceId = (await first.handshake(h.deviceKey.secret, "twin")).ready.payload.deviceId;
  const { connection, transports, statuses } = deviceFor(h, h.deviceKey.secret, "twin");
  try {
    await tickUntil(h.clock, () => transports.length >= 5, "five refused attempts", { stepMs: 100 });
    assert.equal(connection.isReady, false);
    assert.ok(
      statuses.some((s) => s.includes("twin is connected from another client")),
      statuses.join("\n"),
    );
    assert.ok(statuses.some((s) => /another client is connected as this device; retrying in/.test(s)));
    first.send("BYE", { reason: "leaving" });
    await tickUntil(h.clock, () => connection.isReady, "the second client joins", { stepMs: 100 });
    assert.equal(connection.deviceId, deviceId, "the same device");
    assert.equal(h.gateway.device(deviceId)?.state, "ready");
  } finally {
    await stop(connection, h.clock);
    await h.close();
  }
});

Deno.test("DeviceConnection stops for good with version-unsupported when the server refuses its version or agrees on another", async (t) => {
  await t.step("a refusal (an older server) stops the client without retrying", async () => {
    const clock = fakeClock();
    const versions: number[] = [];
    const server = fakeServer(clock, (message, send) => {
      if (message.type !== "CONNECT") return;
      versions.push(message.payload.protocolVersion);
      send("ERROR", {
        code: "version-unsupported",
        message: `Cannot connect: protocol version not supported: client speaks ${PROTOCOL_VERSION}, ` +
          `server supports 1..1; update the server`,
      });
    });
    const connection = connectionTo(clock, server.connect);
    const reason = await connection.stopped;
    assert.equal(reason.kind, "fatal");
    assert.equal(reason.code, "version-unsupported");
    assert.match(reason.message, /update the server$/);
    assert.deepEqual(versions, [PROTOCOL_VERSION], "one attempt, with the version this client speaks");
  });
  await t.step(
    "an ACK agreeing on a version this client does not speak stops it before it registers",
    async () => {
      const clock = fakeClock();
      const seen: string[] = [];
      const server = fakeServer(clock, (message, send) => {
        seen.push(message.type);
        if (message.type === "CONNECT") send("ACK", { ...ack(), protocolVersion: PROTOCOL_VERSION - 1 });
      });
      const connection = connectionTo(clock, server.connect);
      const reason = await connection.stopped;
      assert.equal(reason.code, "version-unsupported");
      assert.match(
        reason.message,
        new RegExp(
          `server agreed on ${
            PROTOCOL_VERSION - 1
          }, this client speaks ${PROTOCOL_VERSION}; update the server$`,
        ),
      );
      await server.read();
      // Everything the client sent before it closed the connection has been read.
      assert.ok(!seen.includes("REGISTER_CAPABILITIES"), `the client sent ${seen}`);
    },
  );
});

Deno.test("DeviceConnection stopped between ACK and READY still says BYE (the server may count it ready already)", async () => {
  const clock = fakeClock();
  const seen: MessageType[] = [];
  let registered = () => {};
  const registering = new Promise<void>((resolve) => registered = resolve);
  const { connect } = fakeServer(clock, (message, send) => {
    seen.push(message.type);
    if (message.type === "CONNECT") send("ACK", ack());
    // READY is never sent: it is still "in flight" when the client stops.
    if (message.type === "REGISTER_CAPABILITIES") registered();
  });
  const connection = connectionTo(clock, connect);
  await registering;
  connection.stop("SIGTERM");
  await clock.tickAsync(4000);
  await connection.stopped;
  assert.deepEqual(seen, ["CONNECT", "REGISTER_CAPABILITIES", "BYE"]);
});

Deno.test("DeviceConnection stopped before any ACK sends no BYE (the server would read it as out of order)", async () => {
  const clock = fakeClock();
  const seen: MessageType[] = [];
  let connected = () => {};
  const connecting = new Promise<void>((resolve) => connected = resolve);
  const { connect } = fakeServer(clock, (message) => {
    seen.push(message.type);
    if (message.type === "CONNECT") connected();
  });
  const connection = connectionTo(clock, connect);
  await connecting;
  connection.stop("SIGTERM");
  await clock.tickAsync(4000);
  await connection.stopped;
  assert.deepEqual(seen, ["CONNECT"]);
});
