import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  ArtifactReceiver,
  type ChunkLink,
  digestOf,
  sendArtifact,
  type WritableFile,
} from "./artifact_io.ts";
import { CHUNK_BYTES } from "./artifacts.ts";
import { decodeArtifactChunk } from "./protocol/mod.ts";
import { fakeClock } from "./testing/fake_clock.ts";

class MemoryFile implements WritableFile {
  readonly parts: Uint8Array[] = [];
  closed = false;
  #read = 0;
  constructor(readonly source = new Uint8Array(), readonly failAfterWrites = Infinity) {}
  write(data: Uint8Array): Promise<number> {
    if (this.parts.length >= this.failAfterWrites) {
      return Promise.reject(new Error("No space left on device"));
    }
    this.parts.push(data.slice());
    return Promise.resolve(data.byteLength);
  }
  read(buffer: Uint8Array): Promise<number | null> {
    if (this.#read >= this.source.byteLength) return Promise.resolve(null);
    const n = Math.min(buffer.byteLength, this.source.byteLength - this.#read, 1000);
    buffer.set(this.source.subarray(this.#read, this.#read + n));
    this.#read += n;
    return Promise.resolve(n);
  }
  close() {
    this.closed = true;
  }
  bytes(): Uint8Array {
    return new Uint8Array(this.parts.flatMap((p) => [...p]));
  }
}

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const data = Uint8Array.from({ length: CHUNK_BYTES + 1234 }, (_, i) => (i * 7) & 0xff);

Deno.test("sendArtifact sends BEGIN, contiguous chunks and END, and waits while the link is backed up", async () => {
  const clock = fakeClock();
  const sent: Array<{ type: string; payload: unknown }> = [];
  let buffered = 10_000_000;
  const link: ChunkLink = {
    send: (type, payload) => void sent.push({ type, payload }),
    bufferedAmount: () => buffered,
  };
  const sending = sendArtifact({
    link,
    timers: clock,
    file: new MemoryFile(data),
    begin: { transferId: "t1", taskId: "task", artifact: "a", size: data.byteLength, sha256: sha(data) },
    stopped: () => false,
    highWaterBytes: 1_000_000,
  });
  await clock.tickAsync(50);
  assert.deepEqual(sent.map((m) => m.type), ["ARTIFACT_BEGIN"], "no chunk while the link is backed up");
  buffered = 0;
  await clock.tickAsync(10);
  assert.equal(await sending, "sent");
  assert.deepEqual(sent.map((m) => m.type), [
    "ARTIFACT_BEGIN",
    "ARTIFACT_CHUNK",
    "ARTIFACT_CHUNK",
    "ARTIFACT_END",
  ]);
  const chunks = sent.slice(1, 3).map((m) => decodeArtifactChunk(m.payload as Uint8Array));
  assert.ok(chunks[0].ok && chunks[1].ok);
  assert.deepEqual([chunks[0].value.offset, chunks[1].value.offset], [0, CHUNK_BYTES]);
});

Deno.test("sendArtifact gives up with 'stalled' when the link stays backed up", async () => {
  const clock = fakeClock();
  const sending = sendArtifact({
    link: { send: () => true, bufferedAmount: () => Infinity },
    timers: clock,
    file: new MemoryFile(data),
    begin: { transferId: "t1", taskId: "task", artifact: "a", size: data.byteLength, sha256: sha(data) },
    stopped: () => false,
    stallTimeoutMs: 1000,
  });
  await clock.tickAsync(1100);
  assert.equal(await sending, "stalled");
});

Deno.test("ArtifactReceiver writes chunks in order and verifies size and digest at the end", async () => {
  const file = new MemoryFile();
  const started = ArtifactReceiver.begin(
    { transferId: "t1", size: data.byteLength, sha256: sha(data), maxBytes: 1 << 20 },
    () => Promise.resolve(file),
  );
  assert.ok(started.ok);
  const receiver = started.value;
  assert.equal(receiver.chunk(0, data.subarray(0, 100)), null);
  assert.equal(receiver.chunk(5, data.subarray(5, 10))?.code, "schema-violation", "a gap is refused");
  assert.equal(receiver.chunk(100, data.subarray(100)), null);
  assert.equal(await receiver.end(), null);
  assert.deepEqual(file.bytes(), data);
  assert.ok(file.closed);
});

Deno.test("ArtifactReceiver refuses a wrong digest, an oversize declaration and a failed write", async () => {
  const tooBig = ArtifactReceiver.begin(
    { transferId: "t", size: 10, sha256: sha(data), maxBytes: 5 },
    () => Promise.resolve(new MemoryFile()),
  );
  assert.ok(!tooBig.ok && tooBig.error.code === "artifact-too-large");

  const wrong = ArtifactReceiver.begin(
    { transferId: "t", size: 3, sha256: sha(new Uint8Array([9, 9, 9])), maxBytes: 5 },
    () => Promise.resolve(new MemoryFile()),
  );
  assert.ok(wrong.ok);
  wrong.value.chunk(0, new Uint8Array([1, 2, 3]));
  assert.equal((await wrong.value.end())?.code, "checksum-mismatch");

  const full = new MemoryFile(undefined, 1);
  const failing = ArtifactReceiver.begin(
    { transferId: "t", size: 4, sha256: sha(new Uint8Array([1, 2, 3, 4])), maxBytes: 5 },
    () => Promise.resolve(full),
  );
  assert.ok(failing.ok);
  failing.value.chunk(0, new Uint8Array([1, 2]));
  failing.value.chunk(2, new Uint8Array([3, 4]));
  const refused = await failing.value.end();
  assert.equal(refused?.code, "internal");
  assert.match(refused!.message, /No space left on device/);
});

Deno.test("digestOf returns the size and SHA-256 of a file", async () => {
  assert.deepEqual(await digestOf(new MemoryFile(data)), { size: data.byteLength, sha256: sha(data) });
});
