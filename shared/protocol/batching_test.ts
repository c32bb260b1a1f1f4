import assert from "node:assert/strict";
import { memoryPair } from "../transport/memory.ts";
import { BatchingTransport } from "./batching.ts";
import { decodeFrames, DEFAULT_LIMITS, encodeMessage } from "./codec.ts";
import type { Message } from "./messages.ts";

/** The frames of each message `sent` holds, decoded. */
function messagesOf(sent: Uint8Array[]): Message[][] {
  return sent.map((bytes) => {
    const frames: Message[] = [];
    decodeFrames(bytes, DEFAULT_LIMITS, (_, decoded) => {
      assert.ok(decoded.ok, !decoded.ok ? decoded.error.message : "");
      frames.push(decoded.value);
    }, null);
    return frames;
  });
}

const pong = (id: number) => encodeMessage("PONG", { id }, 1);

Deno.test("BatchingTransport sends the frames written in one turn as one message, in order", async () => {
  const [a] = memoryPair();
  const batching = new BatchingTransport(a);
  for (let id = 1; id <= 3; id++) batching.send(pong(id));
  assert.equal(a.sent.length, 0, "nothing written before the turn ends");
  assert.equal(batching.bufferedAmount, 3 * 21, "what waits counts as buffered");
  await Promise.resolve();
  batching.send(pong(4));
  await Promise.resolve();
  assert.deepEqual(
    messagesOf(a.sent).map((frames) => frames.map((m) => (m.payload as { id: number }).id)),
    [[1, 2, 3], [4]],
  );
});

Deno.test("BatchingTransport joins frames that lie one after another without copying, and copies others", () => {
  const sent: Uint8Array[] = [];
  const [a] = memoryPair();
  const batching = new BatchingTransport({ ...a, send: (bytes: Uint8Array) => sent.push(bytes) } as never);
  const first = pong(1);
  const second = pong(2);
  assert.equal(
    second.byteOffset,
    first.byteOffset + first.byteLength,
    "the slab carved them one after another",
  );
  batching.send(first);
  batching.send(second);
  batching.flush();
  assert.equal(sent[0].buffer, first.buffer, "one view of the slab, no copy");
  assert.equal(sent[0].byteOffset, first.byteOffset);
  const apart = Uint8Array.from(pong(3));
  batching.send(pong(4));
  batching.send(apart);
  batching.flush();
  assert.notEqual(sent[1].buffer, apart.buffer, "frames in different buffers are copied into one");
  assert.deepEqual(messagesOf(sent).map((frames) => frames.length), [2, 2]);
});

Deno.test("BatchingTransport keeps a message within maxBatchBytes and sends a larger frame alone", async () => {
  const [a] = memoryPair();
  const batching = new BatchingTransport(a, 50);
  batching.send(pong(1)); // 21 bytes
  batching.send(pong(2)); // 42
  batching.send(pong(3)); // would be 63: the first two go first
  const big = encodeMessage("BYE", { reason: "x".repeat(60) }, 1);
  batching.send(big); // over the limit: what waits goes, then the big frame alone
  batching.send(pong(4));
  await Promise.resolve();
  assert.deepEqual(a.sent.map((bytes) => bytes.byteLength), [42, 21, big.byteLength, 21]);
  assert.ok(a.sent.every((bytes) => bytes.byteLength <= 50 || bytes.byteLength === big.byteLength));
});

Deno.test("BatchingTransport.close() writes what waits before it closes", async () => {
  const [a, b] = memoryPair();
  const batching = new BatchingTransport(a);
  batching.send(encodeMessage("BYE", { reason: "stopping" }, 1));
  batching.close(1000, "bye");
  const received: Uint8Array[] = [];
  for await (const bytes of b) received.push(bytes as Uint8Array);
  assert.deepEqual(messagesOf(received).flat().map((m) => m.type), ["BYE"]);
  assert.deepEqual(await b.closed, { code: 1000, reason: "bye" });
});
