import assert from "node:assert/strict";
import { encodeMessage } from "./codec.ts";
import { FrameSlab } from "./frame_slab.ts";

Deno.test("FrameSlab carves frames one after another and never writes a frame's bytes twice", () => {
  const slab = new FrameSlab(64, 32);
  const frames: Uint8Array[] = [];
  for (let i = 0; i < 20; i++) {
    slab.reserve(20);
    slab.bytes.fill(i, slab.offset, slab.offset + 10);
    frames.push(slab.take(10));
  }
  frames.forEach((frame, i) => assert.deepEqual([...frame], new Array(10).fill(i), `frame ${i} intact`));
  // Each reserves 20 bytes and takes 10: the sixth no longer finds 20 free bytes in a 64-byte slab.
  assert.equal(frames[0].buffer, frames[4].buffer, "five frames share a slab");
  assert.notEqual(frames[0].buffer, frames[5].buffer, "a full slab is replaced, not reused");
  assert.equal(frames[4].byteOffset, 40);
});

Deno.test("FrameSlab gives a frame larger than maxCarvedBytes a buffer of its own", () => {
  const slab = new FrameSlab(64, 32);
  slab.reserve(40);
  const big = slab.take(40);
  assert.equal(big.byteOffset, 0);
  assert.equal(big.buffer.byteLength, 40);
  slab.reserve(10);
  assert.notEqual(slab.bytes.buffer, big.buffer, "small frames go back to the slab");
});

Deno.test("an encoded frame keeps its bytes however many frames are encoded after it", () => {
  const first = encodeMessage("BYE", { reason: "first" }, 1);
  const copy = first.slice();
  for (let i = 0; i < 5000; i++) encodeMessage("PONG", { id: i }, i);
  assert.deepEqual(first, copy);
});
