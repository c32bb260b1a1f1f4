import assert from "node:assert/strict";
import {
  decodeArtifactChunk,
  decodeStreamFrame,
  encodeArtifactChunk,
  encodeStreamFrame,
  type FrameMeta,
} from "./binary_payloads.ts";
import { ERROR_CODE_NAMES } from "./errors.ts";

const meta: FrameMeta = {
  format: "jpeg",
  width: 2,
  height: 2,
  originalWidth: 4,
  originalHeight: 4,
  capturedAtMs: 1,
};
const utf8 = new TextEncoder();

function prng(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x100000000;
  };
}

Deno.test("STREAM_FRAME layout: u32 BE metadata length, metadata JSON, image bytes", () => {
  const image = new Uint8Array([0xde, 0xad]);
  const payload = encodeStreamFrame(meta, image);
  const json = utf8.encode(JSON.stringify(meta));
  assert.equal(new DataView(payload.buffer).getUint32(0, false), json.length);
  assert.deepEqual(payload.subarray(4, 4 + json.length), json);
  assert.deepEqual([...payload.subarray(4 + json.length)], [0xde, 0xad]);
});

Deno.test("STREAM_FRAME round-trips metadata and image bytes", () => {
  const image = new Uint8Array([1, 2, 3, 4, 5]);
  const decoded = decodeStreamFrame(encodeStreamFrame({ ...meta, actionId: "a1" }, image));
  assert.ok(decoded.ok);
  assert.deepEqual(decoded.value.meta, { ...meta, actionId: "a1" });
  assert.deepEqual(decoded.value.image, image);
});

Deno.test("STREAM_FRAME with an empty image and a frame at a non-zero byteOffset decode", () => {
  const payload = encodeStreamFrame(meta, new Uint8Array(0));
  const buffer = new Uint8Array(payload.length + 9);
  buffer.set(payload, 9);
  const decoded = decodeStreamFrame(buffer.subarray(9));
  assert.ok(decoded.ok);
  assert.equal(decoded.value.image.byteLength, 0);
});

Deno.test("decodeStreamFrame() refuses payloads shorter than the 4-byte length", () => {
  for (let n = 0; n < 4; n++) {
    const result = decodeStreamFrame(new Uint8Array(n));
    assert.ok(!result.ok);
    assert.equal(result.error.code, "schema-violation");
  }
});

Deno.test("decodeStreamFrame() refuses a metadata length that overruns the payload, up to 2^32-1", () => {
  for (const length of [9999, 0x7fffffff, 0xffffffff]) {
    const overrun = encodeStreamFrame(meta, new Uint8Array(3));
    new DataView(overrun.buffer).setUint32(0, length);
    const result = decodeStreamFrame(overrun);
    assert.ok(!result.ok);
    assert.equal(result.error.code, "schema-violation");
    assert.match(result.error.message, /overruns/);
  }
});

Deno.test("decodeStreamFrame() refuses metadata that is not UTF-8 JSON with bad-json", () => {
  for (const body of [[0xff, 0xfe], [0x7b, 0x7b], []]) {
    const payload = new Uint8Array([0, 0, 0, body.length, ...body]);
    const result = decodeStreamFrame(payload);
    assert.ok(!result.ok);
    assert.equal(result.error.code, "bad-json");
  }
});

Deno.test("decodeStreamFrame() refuses metadata failing its schema with schema-violation", () => {
  const cases = [
    { ...meta, width: -1 },
    { ...meta, format: "gif" },
    { ...meta, capturedAtMs: 1.5 },
    { format: "png" },
    [],
    null,
  ];
  for (const bad of cases) {
    const json = utf8.encode(JSON.stringify(bad));
    const payload = new Uint8Array([0, 0, 0, json.length, ...json]);
    const result = decodeStreamFrame(payload);
    assert.ok(!result.ok, JSON.stringify(bad));
    assert.equal(result.error.code, "schema-violation");
  }
});

Deno.test("ARTIFACT_CHUNK layout: u8 id length, id, u64 BE offset, data", () => {
  const payload = encodeArtifactChunk({ transferId: "t1", offset: 0x0102030405, data: new Uint8Array([9]) });
  assert.deepEqual([...payload], [2, 0x74, 0x31, 0, 0, 0, 1, 2, 3, 4, 5, 9]);
});

Deno.test("ARTIFACT_CHUNK round-trips id, offset up to 2^53-1, and data", () => {
  const data = new Uint8Array([9, 8, 7]);
  for (const offset of [0, 262144, Number.MAX_SAFE_INTEGER]) {
    const decoded = decodeArtifactChunk(encodeArtifactChunk({ transferId: "t-1_X", offset, data }));
    assert.ok(decoded.ok);
    assert.deepEqual([decoded.value.transferId, decoded.value.offset, [...decoded.value.data]], [
      "t-1_X",
      offset,
      [9, 8, 7],
    ]);
  }
  const id64 = "a".repeat(64);
  const empty = decodeArtifactChunk(
    encodeArtifactChunk({ transferId: id64, offset: 5, data: new Uint8Array(0) }),
  );
  assert.ok(empty.ok, "a 64-character id and no data decode");
  assert.equal(empty.value.transferId, id64);
});

Deno.test("decodeArtifactChunk() refuses empty payloads, zero or overrunning id lengths", () => {
  const cases: Array<[number[], string]> = [
    [[], "empty"],
    [[0, 0, 0, 0, 0, 0, 0, 0, 0], "zero-length id"],
    [[40, 1, 2], "id overruns"],
    [[2, 0x74, 0x31, 0, 0, 0, 0, 0, 0, 0], "offset cut short"],
  ];
  for (const [bytes, why] of cases) {
    const result = decodeArtifactChunk(new Uint8Array(bytes));
    assert.ok(!result.ok, why);
    assert.equal(result.error.code, "schema-violation", why);
  }
});

Deno.test("decodeArtifactChunk() refuses ids that are not UTF-8 or use characters outside [A-Za-z0-9_-]", () => {
  const data = new Uint8Array(1);
  for (const transferId of ["a/b", "a b", "..", "é", "a".repeat(65)]) {
    const result = decodeArtifactChunk(encodeArtifactChunk({ transferId, offset: 0, data }));
    assert.ok(!result.ok, transferId);
    assert.equal(result.error.code, "schema-violation");
  }
  const notUtf8 = new Uint8Array([2, 0xff, 0xfe, 0, 0, 0, 0, 0, 0, 0, 0]);
  const result = decodeArtifactChunk(notUtf8);
  assert.ok(!result.ok);
  assert.match(result.error.message, /not UTF-8/);
});

Deno.test("decodeArtifactChunk() refuses an offset above 2^53-1", () => {
  const payload = encodeArtifactChunk({ transferId: "t", offset: 0, data: new Uint8Array(0) });
  new DataView(payload.buffer).setBigUint64(2, 2n ** 53n);
  const result = decodeArtifactChunk(payload);
  assert.ok(!result.ok);
  assert.match(result.error.message, /offset out of range/);
});

Deno.test("the binary payload decoders never throw on random or mutated bytes", () => {
  const random = prng(0x1234567);
  const valid = [
    encodeStreamFrame({ ...meta, actionId: "a9" }, new Uint8Array([1, 2, 3])),
    encodeArtifactChunk({ transferId: "t1", offset: 3, data: new Uint8Array([1, 2, 3]) }),
  ];
  for (let i = 0; i < 3000; i++) {
    let bytes: Uint8Array;
    if (i % 2 === 0) {
      bytes = Uint8Array.from({ length: Math.floor(random() * 80) }, () => Math.floor(random() * 256));
    } else {
      bytes = valid[(i >> 1) % 2].slice(0, 1 + Math.floor(random() * 200));
      for (let m = 0; m < 1 + Math.floor(random() * 3); m++) {
        bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      }
    }
    for (const decode of [decodeStreamFrame, decodeArtifactChunk]) {
      const result = decode(bytes);
      if (!result.ok) assert.ok(ERROR_CODE_NAMES.includes(result.error.code));
    }
  }
});
