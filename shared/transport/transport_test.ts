import assert from "node:assert/strict";
import { memoryPair } from "./memory.ts";
import { type Incoming, IncomingQueue } from "./transport.ts";
import { connectWebSocket, webSocketTransport } from "./websocket.ts";

async function collect(source: AsyncIterable<Incoming>): Promise<Incoming[]> {
  const out: Incoming[] = [];
  for await (const item of source) out.push(item);
  return out;
}

Deno.test("IncomingQueue yields queued frames in order, then ends after end()", async () => {
  const queue = new IncomingQueue();
  queue.push(new Uint8Array([1]));
  queue.push("text");
  const reading = collect(queue);
  queue.push(new Uint8Array([2]));
  queue.end();
  queue.push(new Uint8Array([3]));
  assert.deepEqual(await reading, [new Uint8Array([1]), "text", new Uint8Array([2])]);
});

Deno.test("memoryPair delivers copies in order and closing one end closes both with the code", async () => {
  const [a, b] = memoryPair();
  const frame = new Uint8Array([1, 2, 3]);
  a.send(frame);
  frame[0] = 9;
  a.send(new Uint8Array([4]));
  const reading = collect(b);
  a.close(4004, "gone");
  assert.deepEqual(await reading, [new Uint8Array([1, 2, 3]), new Uint8Array([4])]);
  assert.deepEqual(await b.closed, { code: 4004, reason: "gone" });
  assert.deepEqual(await a.closed, { code: 4004, reason: "gone" });
  assert.equal(a.isOpen, false);
  b.send(new Uint8Array([5]));
  assert.equal(b.sent.length, 0, "a closed end sends nothing");
});

Deno.test("webSocketTransport carries binary and text frames over a real socket and reports the close", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    const transport = webSocketTransport(socket);
    (async () => {
      for await (const frame of transport) {
        if (typeof frame === "string") transport.close(4007, `text ${frame}`);
        else transport.send(frame.map((b) => b + 1));
      }
    })();
    return response;
  });
  try {
    const client = await connectWebSocket(`ws://127.0.0.1:${server.addr.port}/`);
    const frames = client[Symbol.asyncIterator]();
    client.send(new Uint8Array([1, 2]));
    assert.deepEqual((await frames.next()).value, new Uint8Array([2, 3]));
    // A text frame: the server closes with a protocol code.
    const raw = new WebSocket(`ws://127.0.0.1:${server.addr.port}/`);
    await new Promise((resolve) => raw.addEventListener("open", resolve, { once: true }));
    const rawTransport = webSocketTransport(raw);
    raw.send("hello");
    assert.deepEqual(await rawTransport.closed, { code: 4007, reason: "text hello" });
    client.close(1000, "done");
    assert.deepEqual(await client.closed, { code: 1000, reason: "done" });
    assert.equal((await frames.next()).done, true);
  } finally {
    await server.shutdown();
  }
});

Deno.test("connectWebSocket rejects with the URL when nothing listens", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await assert.rejects(connectWebSocket(`ws://127.0.0.1:${port}/`), new RegExp(`127.0.0.1:${port}`));
});

Deno.test("listen() hands a sink the frames that came before it, each later frame as it arrives, then the close", async (t) => {
  await t.step("memoryPair", async () => {
    const [a, b] = memoryPair();
    a.send(new Uint8Array([1]));
    await Promise.resolve();
    const got: Incoming[] = [];
    const closed = Promise.withResolvers<unknown>();
    b.listen({ frame: (frame) => got.push(frame), closed: closed.resolve });
    assert.deepEqual(got, [new Uint8Array([1])], "the early frame at once");
    a.send(new Uint8Array([2]));
    await Promise.resolve();
    assert.deepEqual(got, [new Uint8Array([1]), new Uint8Array([2])]);
    a.close(4001, "bye");
    assert.deepEqual(await closed.promise, { code: 4001, reason: "bye" });
  });
  await t.step("a real socket", async () => {
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
      const { socket, response } = Deno.upgradeWebSocket(request);
      const transport = webSocketTransport(socket);
      transport.listen!({
        frame: (frame) => typeof frame === "string" ? transport.close(4002, frame) : transport.send(frame),
        closed: () => {},
      });
      return response;
    });
    try {
      const client = await connectWebSocket(`ws://127.0.0.1:${server.addr.port}/`);
      const got: Incoming[] = [];
      const closed = Promise.withResolvers<unknown>();
      let wake = () => {};
      client.listen!({
        frame: (frame) => {
          got.push(frame);
          wake();
        },
        closed: closed.resolve,
      });
      client.send(new Uint8Array([7, 8]));
      await new Promise<void>((resolve) => (wake = resolve));
      assert.deepEqual(got, [new Uint8Array([7, 8])], "the echo");
      const raw = new WebSocket(`ws://127.0.0.1:${server.addr.port}/`);
      await new Promise((resolve) => raw.addEventListener("open", resolve, { once: true }));
      const rawTransport = webSocketTransport(raw);
      const rawClosed = Promise.withResolvers<unknown>();
      rawTransport.listen!({ frame: () => {}, closed: rawClosed.resolve });
      raw.send("stop");
      assert.deepEqual(await rawClosed.promise, { code: 4002, reason: "stop" }, "the server's close");
      client.close(1000, "done");
      assert.deepEqual(
        await closed.promise,
        { code: 1000, reason: "done" },
        "our own close, after its handshake",
      );
    } finally {
      await server.shutdown();
    }
  });
});
