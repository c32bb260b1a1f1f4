import assert from "node:assert/strict";
import {
  decodeArtifactChunk,
  decodeStreamFrame,
  encodeArtifactChunk,
  encodeStreamFrame,
} from "./binary_payloads.ts";

const meta = {
  format: "jpeg" as const,
  width: 2,
  height: 2,
  originalWidth: 4,
  originalHeight: 4,
  capturedAtMs: 1,
};

Deno.test("STREAM_FRAME round-trips metadata and image bytes", () => {
  const image = new Uint8Array([1, 2, 3, 4, 5]);
  const decoded = decodeStreamFrame(encodeStreamFrame({ ...meta, actionId: "a1" }, image));
  assert.ok(decoded.ok);
  assert.equal(decoded.value.meta.actionId, "a1");
  assert.deepEqual(decoded.value.image, image);
});

Deno.test("decodeStreamFrame() refuses short payloads, overrunning lengths and bad metadata", () => {
  assert.ok(!decodeStreamFrame(new Uint8Array(2)).ok);
  const overrun = encodeStreamFrame(meta, new Uint8Array(0));
  new DataView(overrun.buffer).setUint32(0, 9999);
  assert.ok(!decodeStreamFrame(overrun).ok);
  const badMeta = encodeStreamFrame({ ...meta, width: -1 } as never, new Uint8Array(0));
  const result = decodeStreamFrame(badMeta);
  assert.ok(!result.ok);
  assert.equal(result.error.code, "schema-violation");
});

Deno.test("ARTIFACT_CHUNK round-trips and refuses hostile layouts", () => {
  const data = new Uint8Array([9, 8, 7]);
  const decoded = decodeArtifactChunk(encodeArtifactChunk({ transferId: "t-1", offset: 262144, data }));
  assert.ok(decoded.ok);
  assert.deepEqual([decoded.value.transferId, decoded.value.offset, [...decoded.value.data]], [
    "t-1",
    262144,
    [9, 8, 7],
  ]);
  assert.ok(!decodeArtifactChunk(new Uint8Array(0)).ok);
  assert.ok(!decodeArtifactChunk(new Uint8Array([40, 1, 2])).ok, "id length overruns");
  const badId = encodeArtifactChunk({ transferId: "a/b", offset: 0, data });
  assert.ok(!decodeArtifactChunk(badId).ok);
});
