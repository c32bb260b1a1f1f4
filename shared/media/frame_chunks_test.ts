import assert from "node:assert/strict";
import {
  CHUNK_HEADER_BYTES,
  type ChunkChannel,
  chunkFrame,
  chunkPayload,
  FrameReassembler,
  parseChunk,
  sendChunks,
} from "./frame_chunks.ts";
import { encodeStreamFrame, type FrameMeta } from "../protocol/binary_payloads.ts";

const meta: FrameMeta = {
  actionId: "a1",
  format: "jpeg",
  width: 1280,
  height: 800,
  originalWidth: 1280,
  originalHeight: 800,
  capturedAtMs: 1_700_000_000_000,
};

function image(bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = (i * 31 + 7) & 0xff;
  return out;
}

Deno.test("chunkFrame() cuts a 205 KiB frame into 64 KiB messages that reassemble byte for byte", () => {
  const jpeg = image(205 * 1024);
  const chunks = chunkFrame(7, meta, jpeg);
  assert.ok(chunks.every((chunk) => chunk.byteLength <= 64 * 1024));
  assert.equal(
    chunks.length,
    Math.ceil(encodeStreamFrame(meta, jpeg).byteLength / (64 * 1024 - CHUNK_HEADER_BYTES)),
  );
  const reassembler = new FrameReassembler({ maxFrameBytes: 16 << 20 });
  const steps = chunks.map((chunk) => reassembler.push(chunk));
  assert.ok(steps.slice(0, -1).every((step) => step.kind === "partial"));
  const last = steps.at(-1)!;
  assert.equal(last.kind, "frame");
  if (last.kind !== "frame") return;
  assert.equal(last.frameId, 7);
  assert.deepEqual(last.frame.meta, meta);
  assert.deepEqual(last.frame.image, jpeg);
});

Deno.test("a frame that fits one message is complete at once", () => {
  const reassembler = new FrameReassembler({ maxFrameBytes: 1 << 20 });
  const [only] = chunkFrame(1, meta, image(100));
  const step = reassembler.push(only);
  assert.equal(step.kind, "frame");
});

Deno.test("parseChunk() reads the header fields and refuses short, unknown and overrunning chunks", () => {
  const [chunk] = chunkPayload(0xfffffffe, new Uint8Array([1, 2, 3]), 64);
  assert.deepEqual(
    chunk.subarray(0, CHUNK_HEADER_BYTES),
    new Uint8Array([1, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 3, 0, 0, 0, 0]),
  );
  const parsed = parseChunk(chunk);
  assert.ok(parsed.ok);
  assert.deepEqual({ ...parsed.value, data: [...parsed.value.data] }, {
    frameId: 0xfffffffe,
    totalBytes: 3,
    offset: 0,
    data: [1, 2, 3],
  });
  const short = parseChunk(new Uint8Array(12));
  assert.ok(!short.ok && /shorter than its 13-byte header/.test(short.error));
  const kind = parseChunk(new Uint8Array([9, ...new Array(12).fill(0)]));
  assert.ok(!kind.ok && /unknown chunk kind 0x9/.test(kind.error));
  const overrun = chunk.slice();
  overrun[8] = 2; // totalBytes 2 < 3 bytes of data
  const refused = parseChunk(overrun);
  assert.ok(!refused.ok && /overruns frame/.test(refused.error));
});

Deno.test("FrameReassembler drops a frame over the size limit, a gap, and a frame left incomplete", () => {
  const reassembler = new FrameReassembler({ maxFrameBytes: 1000 });
  const big = chunkFrame(1, meta, image(5000), 512);
  const tooBig = reassembler.push(big[0]);
  assert.equal(tooBig.kind, "dropped");
  assert.match(tooBig.kind === "dropped" ? tooBig.reason : "", /exceeds 1000/);

  const roomy = new FrameReassembler({ maxFrameBytes: 1 << 20 });
  const first = chunkFrame(2, meta, image(2000), 512);
  assert.equal(roomy.push(first[0]).kind, "partial");
  const gap = roomy.push(first[2]);
  assert.equal(gap.kind, "dropped");

  assert.equal(roomy.push(first[0]).kind, "partial");
  const next = chunkFrame(3, meta, image(2000), 512);
  const abandoned = roomy.push(next[0]);
  assert.deepEqual(abandoned, { kind: "dropped", frameId: 2, reason: "frame left incomplete" });
  // The new frame goes on and completes.
  const rest = next.slice(1).map((chunk) => roomy.push(chunk));
  assert.equal(rest.at(-1)!.kind, "frame");
});

Deno.test("FrameReassembler reports metadata that is not a STREAM_FRAME layout as dropped", () => {
  const reassembler = new FrameReassembler({ maxFrameBytes: 1 << 20 });
  const [chunk] = chunkPayload(4, new Uint8Array([0, 0, 0, 2, 0x7b, 0x7d, 1]), 64);
  const step = reassembler.push(chunk);
  assert.equal(step.kind, "dropped");
});

Deno.test("sendChunks() waits for the buffer to drain above the high-water mark, and stops when the channel closes", async () => {
  const sent: number[] = [];
  let buffered = 0;
  let open = true;
  let drains = 0;
  const channel: ChunkChannel = {
    send: (bytes) => {
      sent.push(bytes.byteLength);
      buffered += bytes.byteLength;
    },
    get bufferedAmount() {
      return buffered;
    },
    get isOpen() {
      return open;
    },
    drained: () => {
      drains++;
      buffered = 0;
      if (drains === 2) open = false;
      return Promise.resolve();
    },
  };
  const chunks = Array.from({ length: 10 }, () => new Uint8Array(100));
  const done = await sendChunks(channel, chunks, 250);
  assert.equal(done, false);
  assert.equal(drains, 2);
  assert.equal(sent.length, 6);
});
