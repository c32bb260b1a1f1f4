import assert from "node:assert/strict";
import { decodeFrame, encodeMessage } from "./codec.ts";
import { type MessageType, MessageTypes } from "./messages.ts";
import { SAMPLE_PAYLOADS, toHex, VECTOR_TIMESTAMP_MS, VECTOR_TYPES } from "./vectors.ts";

const protocolMd = await Deno.readTextFile(new URL("../../PROTOCOL.md", import.meta.url));

Deno.test("PROTOCOL.md's hex vectors equal the codec's output byte for byte", () => {
  const blocks = [...protocolMd.matchAll(/### Vector: ([A-Z_]+)\n[\s\S]*?```hex\n([0-9a-f\n]+)```/g)];
  assert.deepEqual(blocks.map((b) => b[1]), [...VECTOR_TYPES], "a vector for each listed type, in order");
  assert.ok(blocks.length >= 5);
  for (const [, type, hex] of blocks) {
    const frame = encodeMessage(
      type as MessageType,
      SAMPLE_PAYLOADS[type as MessageType] as never,
      VECTOR_TIMESTAMP_MS,
    );
    assert.equal(toHex(frame), hex.trim(), `vector ${type}`);
    const bytes = Uint8Array.from(hex.replace(/\n/g, "").match(/../g)!.map((h) => parseInt(h, 16)));
    const decoded = decodeFrame(bytes);
    assert.ok(decoded.ok, `vector ${type} decodes`);
    assert.equal(decoded.value.type, type);
    assert.equal(decoded.value.timestampMs, VECTOR_TIMESTAMP_MS);
  }
});

Deno.test("PROTOCOL.md's message table lists every type with its code, direction and payload kind", () => {
  for (const [name, spec] of Object.entries(MessageTypes)) {
    const code = spec.code.toString(16).padStart(2, "0");
    const row = new RegExp(`\\| \`0x${code}\` +\\| ${name} +\\| [^|]+\\| ${spec.payload} +\\|`);
    assert.match(protocolMd, row, name);
  }
  assert.match(protocolMd, /ws:\/\/127\.0\.0\.1:8080\/v1\/device/);
});

Deno.test("every message type has a sample payload that round-trips through the codec", () => {
  for (const type of Object.keys(MessageTypes) as MessageType[]) {
    const payload = SAMPLE_PAYLOADS[type];
    assert.ok(payload !== undefined, `sample for ${type}`);
    const decoded = decodeFrame(encodeMessage(type, payload as never, 123));
    assert.ok(decoded.ok, `${type}: ${!decoded.ok && decoded.error.message}`);
    assert.equal(decoded.value.type, type);
    assert.equal(decoded.value.timestampMs, 123);
    if (payload instanceof Uint8Array) assert.deepEqual(decoded.value.payload, payload);
    else {assert.deepEqual(JSON.parse(JSON.stringify(decoded.value.payload)), {
        ...decoded.value.payload,
        ...payload,
      });}
  }
});
