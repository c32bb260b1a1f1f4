import assert from "node:assert/strict";
import { decodeFrame, encodeMessage } from "./codec.ts";
import { HEADER_BYTES, readHeader, writeHeader } from "./header.ts";
import { SAMPLE_PAYLOADS } from "./vectors.ts";

const limits = { maxFrameBytes: 4096, maxJsonBytes: 1024 };
const pong = () => encodeMessage("PONG", { id: 1 }, 5);

function codeOf(bytes: Uint8Array): string {
  const result = decodeFrame(bytes, limits);
  assert.ok(!result.ok, "expected a decode error");
  return result.error.code;
}

Deno.test("writeHeader()/readHeader() lay out type, big-endian length and big-endian timestamp", () => {
  const bytes = new Uint8Array(13);
  writeHeader(bytes, { typeCode: 0x21, payloadBytes: 0x01020304, timestampMs: 0x0102030405 });
  assert.deepEqual([...bytes], [0x21, 1, 2, 3, 4, 0, 0, 0, 1, 2, 3, 4, 5]);
  const header = readHeader(bytes);
  assert.ok(header.ok);
  assert.deepEqual(header.value, { typeCode: 0x21, payloadBytes: 0x01020304, timestampMs: 0x0102030405 });
});

Deno.test("decodeFrame() rejects a header shorter than 13 bytes", () => {
  for (let n = 0; n < HEADER_BYTES; n++) assert.equal(codeOf(new Uint8Array(n)), "bad-header");
});

Deno.test("decodeFrame() rejects a length that lies in either direction", () => {
  const longer = pong();
  new DataView(longer.buffer).setUint32(1, longer.length - 13 + 1);
  assert.equal(codeOf(longer), "length-mismatch");
  const shorter = pong();
  new DataView(shorter.buffer).setUint32(1, shorter.length - 13 - 1);
  assert.equal(codeOf(shorter), "length-mismatch");
});

Deno.test("decodeFrame() rejects unknown types, bad UTF-8, bad JSON and schema failures naming the field", () => {
  const unknown = pong();
  unknown[0] = 0xee;
  assert.equal(codeOf(unknown), "unknown-type");
  const badUtf8 = encodeMessage("STREAM_FRAME", new Uint8Array(0), 0);
  const withBytes = new Uint8Array([...badUtf8, 0xff, 0xfe]);
  withBytes[0] = 0x06;
  new DataView(withBytes.buffer).setUint32(1, 2);
  assert.equal(codeOf(withBytes), "bad-json");
  const text = new TextEncoder().encode("{oops");
  const badJson = new Uint8Array([0x06, 0, 0, 0, text.length, 0, 0, 0, 0, 0, 0, 0, 0, ...text]);
  assert.equal(codeOf(badJson), "bad-json");
  const result = decodeFrame(
    encodeMessage("ACTION_CLICK", { seq: 1, actionId: "a", x: 1, y: "two" } as never, 0),
    limits,
  );
  assert.ok(!result.ok);
  assert.equal(result.error.code, "schema-violation");
  assert.match(result.error.message, /ACTION_CLICK y:/);
});

Deno.test("decodeFrame() rejects over-size frames and over-size JSON payloads", () => {
  assert.equal(codeOf(new Uint8Array(4097)), "frame-too-large");
  assert.equal(codeOf(encodeMessage("BYE", { reason: "x".repeat(1100) } as never, 0)), "frame-too-large");
  const bigBinary = decodeFrame(encodeMessage("STREAM_FRAME", new Uint8Array(2000), 0), limits);
  assert.ok(bigBinary.ok, "binary payloads are bounded by the frame limit only");
});

Deno.test("decodeFrame() rejects a timestamp beyond 2^53-1", () => {
  const frame = pong();
  new DataView(frame.buffer).setBigUint64(5, 2n ** 60n);
  assert.equal(codeOf(frame), "bad-header");
});

Deno.test("decodeFrame() never throws on random or mutated bytes", () => {
  let seed = 0x2545f491;
  const random = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x100000000;
  };
  const valid = Object.entries(SAMPLE_PAYLOADS).map(([type, payload]) =>
    encodeMessage(type as never, payload as never, 9)
  );
  let decodedOk = 0;
  for (let i = 0; i < 4000; i++) {
    let bytes: Uint8Array;
    if (i % 2 === 0) {
      bytes = Uint8Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256));
    } else {
      bytes = valid[i % valid.length].slice();
      for (let m = 0; m < 1 + Math.floor(random() * 4); m++) {
        bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      }
    }
    const result = decodeFrame(bytes, limits);
    if (result.ok) decodedOk++;
    else assert.equal(typeof result.error.code, "string");
  }
  assert.ok(decodedOk < 4000, "hostile bytes are mostly refused");
});
