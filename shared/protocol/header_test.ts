import assert from "node:assert/strict";
import { HEADER_BYTES, readHeader, writeHeader } from "./header.ts";

Deno.test("the header is 13 bytes", () => {
  assert.equal(HEADER_BYTES, 13);
});

Deno.test("writeHeader() lays out type (1 byte), big-endian length (4) and big-endian timestamp (8)", () => {
  const bytes = new Uint8Array(13);
  writeHeader(bytes, { typeCode: 0x21, payloadBytes: 0x01020304, timestampMs: 0x0102030405 });
  assert.deepEqual([...bytes], [0x21, 1, 2, 3, 4, 0, 0, 0, 1, 2, 3, 4, 5]);
});

Deno.test("readHeader() inverts writeHeader() at the extremes of each field", () => {
  const cases = [
    { typeCode: 0, payloadBytes: 0, timestampMs: 0 },
    { typeCode: 0xff, payloadBytes: 0xffffffff, timestampMs: Number.MAX_SAFE_INTEGER },
    { typeCode: 0x12, payloadBytes: 94, timestampMs: 1700000000000 },
  ];
  for (const header of cases) {
    const bytes = new Uint8Array(13);
    writeHeader(bytes, header);
    const read = readHeader(bytes);
    assert.ok(read.ok);
    assert.deepEqual(read.value, header);
  }
});

Deno.test("writeHeader() and readHeader() honour a view's byteOffset inside a larger buffer", () => {
  const buffer = new Uint8Array(40).fill(0xaa);
  const view = buffer.subarray(7, 20);
  writeHeader(view, { typeCode: 0x05, payloadBytes: 33, timestampMs: 1700000000000 });
  assert.equal(buffer[6], 0xaa, "byte before the view untouched");
  assert.equal(buffer[20], 0xaa, "byte after the view untouched");
  assert.deepEqual([...buffer.subarray(7, 12)], [0x05, 0, 0, 0, 33]);
  const read = readHeader(buffer.subarray(7));
  assert.ok(read.ok);
  assert.deepEqual(read.value, { typeCode: 0x05, payloadBytes: 33, timestampMs: 1700000000000 });
});

Deno.test("readHeader() reads only the first 13 bytes and ignores what follows", () => {
  const bytes = new Uint8Array(100).fill(0x7b);
  writeHeader(bytes, { typeCode: 0x06, payloadBytes: 87, timestampMs: 1 });
  const read = readHeader(bytes);
  assert.ok(read.ok);
  assert.equal(read.value.payloadBytes, 87);
});

Deno.test("readHeader() refuses fewer than 13 bytes with bad-header", () => {
  for (let n = 0; n < 13; n++) {
    const read = readHeader(new Uint8Array(n));
    assert.ok(!read.ok);
    assert.equal(read.error.code, "bad-header");
    assert.match(read.error.message, new RegExp(`got ${n} bytes`));
  }
});

Deno.test("readHeader() refuses a timestamp above 2^53-1 with bad-header and accepts 2^53-1", () => {
  const bytes = new Uint8Array(13);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(5, BigInt(Number.MAX_SAFE_INTEGER));
  assert.ok(readHeader(bytes).ok);
  for (const big of [BigInt(Number.MAX_SAFE_INTEGER) + 1n, 2n ** 63n, 2n ** 64n - 1n]) {
    view.setBigUint64(5, big);
    const read = readHeader(bytes);
    assert.ok(!read.ok, `${big}`);
    assert.equal(read.error.code, "bad-header");
    assert.match(read.error.message, /out of range/);
  }
});
