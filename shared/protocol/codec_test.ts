import assert from "node:assert/strict";
import { decodeFrame, decodeFrames, type DecodeLimits, DEFAULT_LIMITS, encodeMessage } from "./codec.ts";
import { ERROR_CODE_NAMES } from "./errors.ts";
import { HEADER_BYTES } from "./header.ts";
import { maySend, type MessageType, MessageTypes, RELIABLE_TYPES, TYPE_BY_CODE } from "./messages.ts";
import { SAMPLE_PAYLOADS } from "./vectors.ts";

const limits: DecodeLimits = { maxFrameBytes: 4096, maxJsonBytes: 1024 };
const TYPES = Object.keys(MessageTypes) as MessageType[];
const utf8 = new TextEncoder();

/** A frame built by hand: header bytes written one by one, then `body`. */
function handFrame(typeCode: number, body: Uint8Array | string, timestampMs = 0): Uint8Array {
  const bytes = typeof body === "string" ? utf8.encode(body) : body;
  const frame = new Uint8Array(HEADER_BYTES + bytes.length);
  frame[0] = typeCode;
  new DataView(frame.buffer).setUint32(1, bytes.length);
  new DataView(frame.buffer).setBigUint64(5, BigInt(timestampMs));
  frame.set(bytes, HEADER_BYTES);
  return frame;
}

function errorOf(bytes: Uint8Array, decodeLimits: DecodeLimits = limits) {
  const result = decodeFrame(bytes, decodeLimits);
  assert.ok(!result.ok, "expected a decode error");
  return result.error;
}

const codeOf = (bytes: Uint8Array, decodeLimits: DecodeLimits = limits) => errorOf(bytes, decodeLimits).code;
const pong = () => encodeMessage("PONG", { id: 1 }, 5);
/** A DataView of exactly `bytes` (an encoded frame is a view into a larger slab). */
const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

Deno.test("DEFAULT_LIMITS are 16 MiB frames and 1 MiB JSON payloads", () => {
  assert.deepEqual(DEFAULT_LIMITS, { maxFrameBytes: 16 * 1024 * 1024, maxJsonBytes: 1024 * 1024 });
});

Deno.test("type codes are unique, one byte, and TYPE_BY_CODE maps each back to its name", () => {
  const codes = TYPES.map((t) => MessageTypes[t].code);
  assert.equal(new Set(codes).size, codes.length);
  for (const type of TYPES) {
    const { code } = MessageTypes[type];
    assert.ok(code > 0 && code <= 0xff, type);
    assert.equal(TYPE_BY_CODE.get(code), type);
  }
  assert.equal(TYPE_BY_CODE.size, TYPES.length);
});

Deno.test("binary types have no schema; JSON and packed types have one", () => {
  for (const type of TYPES) {
    const spec = MessageTypes[type];
    assert.equal(spec.schema === null, spec.payload === "binary", type);
  }
  assert.deepEqual(TYPES.filter((t) => MessageTypes[t].payload === "binary"), [
    "STREAM_FRAME",
    "ARTIFACT_CHUNK",
  ]);
  assert.deepEqual(TYPES.filter((t) => MessageTypes[t].payload === "packed"), [
    "PING",
    "PONG",
    "SEQ_ACK",
    "TASK_ACCEPTED",
    "FINISH_TASK",
    "ACTION_MOVE",
    "ACTION_CLICK",
  ]);
});

Deno.test("exactly the reliable types require a positive integer seq", () => {
  for (const type of TYPES) {
    const schema = MessageTypes[type].schema;
    if (schema === null) {
      assert.ok(!RELIABLE_TYPES.has(type), `${type} is binary and cannot be reliable`);
      continue;
    }
    const sample = SAMPLE_PAYLOADS[type] as Record<string, unknown>;
    const { seq: _seq, ...withoutSeq } = sample;
    const missing = schema.safeParse(withoutSeq).success;
    if (RELIABLE_TYPES.has(type)) {
      assert.ok(!missing, `${type} must require seq`);
      for (const bad of [0, -1, 1.5, "1"]) assert.ok(!schema.safeParse({ ...sample, seq: bad }).success);
    } else if (type !== "SEQ_ACK") {
      assert.ok(missing, `${type} must not require seq`);
    }
  }
});

Deno.test("maySend() follows each type's direction", () => {
  for (const type of TYPES) {
    const direction = MessageTypes[type].direction;
    assert.equal(maySend(type, "device"), direction !== "server-to-device", type);
    assert.equal(maySend(type, "server"), direction !== "device-to-server", type);
  }
  assert.ok(!maySend("ACTION_CLICK", "device"));
  assert.ok(!maySend("RESULT", "server"));
  assert.ok(maySend("ERROR", "device") && maySend("ERROR", "server"));
});

Deno.test("encodeMessage() writes the header then compact JSON", () => {
  const frame = encodeMessage("BYE", { reason: "stop" }, 1700000000000);
  assert.deepEqual([...frame.subarray(0, HEADER_BYTES)], [
    0x08,
    0,
    0,
    0,
    17,
    0,
    0,
    0x01,
    0x8b,
    0xcf,
    0xe5,
    0x68,
    0x00,
  ]);
  assert.equal(new TextDecoder().decode(frame.subarray(HEADER_BYTES)), '{"reason":"stop"}');
  assert.equal(frame.byteLength, HEADER_BYTES + 17, "no slack after the payload");
});

Deno.test("encodeMessage() counts the length in UTF-8 bytes, not characters", () => {
  const frame = encodeMessage("ACTION_TYPE", { seq: 1, actionId: "a", text: "é✓😀" }, 0);
  const json = '{"seq":1,"actionId":"a","text":"é✓😀"}';
  assert.equal(view(frame).getUint32(1), utf8.encode(json).length);
  assert.deepEqual(frame.subarray(HEADER_BYTES), utf8.encode(json));
  const decoded = decodeFrame(frame);
  assert.ok(decoded.ok && decoded.value.type === "ACTION_TYPE");
  assert.equal(decoded.value.payload.text, "é✓😀");
});

Deno.test("encodeMessage() puts a binary payload after the header unchanged", () => {
  const body = new Uint8Array([0, 1, 2, 0xff]);
  const frame = encodeMessage("ARTIFACT_CHUNK", body, 3);
  assert.deepEqual([...frame], [0x41, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 3, 0, 1, 2, 0xff]);
});

Deno.test("every message type round-trips: same type, timestamp and payload", () => {
  for (const type of TYPES) {
    const payload = SAMPLE_PAYLOADS[type];
    const decoded = decodeFrame(encodeMessage(type, payload as never, 1234567890123));
    assert.ok(decoded.ok, `${type}: ${!decoded.ok && decoded.error.message}`);
    assert.equal(decoded.value.type, type);
    assert.equal(decoded.value.timestampMs, 1234567890123);
    if (payload instanceof Uint8Array) assert.deepEqual(decoded.value.payload, payload);
    else assert.deepEqual(decoded.value.payload, { ...(decoded.value.payload as object), ...payload }, type);
  }
});

Deno.test("a frame inside a larger buffer (non-zero byteOffset) decodes", () => {
  const frame = encodeMessage("PING", { id: 3, sentAtMs: 9 }, 11);
  const buffer = new Uint8Array(frame.length + 20).fill(0xee);
  buffer.set(frame, 10);
  const decoded = decodeFrame(buffer.subarray(10, 10 + frame.length));
  assert.ok(decoded.ok);
  assert.deepEqual(decoded.value, { type: "PING", payload: { id: 3, sentAtMs: 9 }, timestampMs: 11 });
});

Deno.test("receivers accept any key order and whitespace, and drop unknown keys", () => {
  const text = ' \n{ "name" : "n",\t"extra": {"a": [1, 2]}, "deviceId": "d" }\r\n ';
  const decoded = decodeFrame(handFrame(0x04, text, 11));
  assert.ok(decoded.ok);
  assert.deepEqual(decoded.value, { type: "READY", payload: { deviceId: "d", name: "n" }, timestampMs: 11 });
});

Deno.test("receivers skip a byte-order mark before a JSON payload", () => {
  const decoded = decodeFrame(handFrame(0x08, '\ufeff{"reason":"r"}'));
  assert.ok(decoded.ok);
  assert.deepEqual(decoded.value.payload, { reason: "r" });
});

Deno.test("schema defaults are filled in on decode", () => {
  const decoded = decodeFrame(handFrame(0x27, '{"seq":1,"actionId":"a"}'));
  assert.ok(decoded.ok && decoded.value.type === "REQUEST_FRAME");
  assert.deepEqual(decoded.value.payload, { seq: 1, actionId: "a", format: "jpeg", scale: 1, quality: 80 });
});

Deno.test("a short header is refused with bad-header", () => {
  for (let n = 0; n < HEADER_BYTES; n++) assert.equal(codeOf(new Uint8Array(n)), "bad-header");
});

Deno.test("a length field larger than the payload is refused with length-mismatch", () => {
  const frame = pong();
  view(frame).setUint32(1, frame.length - HEADER_BYTES + 1);
  const error = errorOf(frame);
  assert.equal(error.code, "length-mismatch");
  assert.match(error.message, /declared 9 bytes, got 8/);
  const huge = pong();
  view(huge).setUint32(1, 0xffffffff);
  assert.equal(codeOf(huge), "length-mismatch");
});

Deno.test("a length field smaller than the payload is refused with length-mismatch", () => {
  const frame = pong();
  view(frame).setUint32(1, frame.length - HEADER_BYTES - 1);
  assert.equal(codeOf(frame), "length-mismatch");
  const zero = pong();
  view(zero).setUint32(1, 0);
  assert.equal(codeOf(zero), "length-mismatch");
});

Deno.test("an unknown type code is refused with unknown-type naming it in hex", () => {
  const known = new Set(TYPE_BY_CODE.keys());
  for (let code = 0; code <= 0xff; code++) {
    if (known.has(code)) continue;
    const error = errorOf(handFrame(code, "{}"));
    assert.equal(error.code, "unknown-type");
    assert.ok(error.message.endsWith(`0x${code.toString(16).padStart(2, "0")}`), error.message);
  }
});

Deno.test("a JSON payload that is not UTF-8 is refused with bad-json", () => {
  for (const body of [[0xff, 0xfe], [0x7b, 0xc3, 0x28, 0x7d], [0xed, 0xa0, 0x80]]) {
    const error = errorOf(handFrame(0x08, new Uint8Array(body)));
    assert.equal(error.code, "bad-json");
    assert.equal(error.ref, "BYE");
  }
});

Deno.test("a JSON payload that does not parse is refused with bad-json", () => {
  for (const text of ["", "{oops", '{"id":1', "{'id':1}", '{"id":1}}', "NaN"]) {
    assert.equal(codeOf(handFrame(0x08, text)), "bad-json", JSON.stringify(text));
  }
});

Deno.test("a payload failing its schema is refused with schema-violation naming type and field", () => {
  const cases: Array<[number, string, RegExp]> = [
    [
      0x22,
      '{"seq":1,"actionId":"a","from":{"x":1,"y":"two"},"to":{"x":1,"y":2}}',
      /^.*: ACTION_DRAG from.y: /,
    ],
    [0x22, '{"seq":1,"actionId":"a","from":{"x":1,"y":2}}', /ACTION_DRAG to: /],
    [0x01, '{"protocolVersion":1,"token":"","clientVersion":"c"}', /CONNECT token: /],
    [0x03, '{"name":"bad name","os":{"platform":"linux"}}', /REGISTER_CAPABILITIES name: /],
    [0x09, '{"code":"no-such-code","message":"m"}', /ERROR code: /],
    [0x10, '{"seq":1}', /EXECUTE_TASK taskId: /],
    [0x40, '{"seq":1,"transferId":"a/b","taskId":"t","artifact":"a","size":0,"sha256":"x"}', /transferId/],
  ];
  for (const [code, text, pattern] of cases) {
    const error = errorOf(handFrame(code, text));
    assert.equal(error.code, "schema-violation", text);
    assert.match(error.message, pattern);
    assert.equal(error.ref, TYPE_BY_CODE.get(code));
  }
});

Deno.test("JSON that is not an object is refused with schema-violation", () => {
  for (const text of ["null", "[]", "1", '"x"', "true"]) {
    assert.equal(codeOf(handFrame(0x08, text)), "schema-violation", text);
  }
});

Deno.test("RESULT's cross-field rules are enforced", () => {
  const neither = errorOf(handFrame(0x12, '{"seq":1,"ok":true}'));
  assert.equal(neither.code, "schema-violation");
  assert.match(neither.message, /names a taskId or an actionId/);
  const failedWithoutError = errorOf(handFrame(0x12, '{"seq":1,"taskId":"t","ok":false}'));
  assert.match(failedWithoutError.message, /a failed RESULT carries an error/);
});

Deno.test("a frame over maxFrameBytes is refused with frame-too-large before anything else", () => {
  assert.equal(codeOf(new Uint8Array(limits.maxFrameBytes + 1)), "frame-too-large");
  const atLimit = handFrame(0x30, new Uint8Array(limits.maxFrameBytes - HEADER_BYTES));
  assert.ok(decodeFrame(atLimit, limits).ok, "a binary frame of exactly maxFrameBytes is accepted");
  const overLimit = handFrame(0x30, new Uint8Array(limits.maxFrameBytes - HEADER_BYTES + 1));
  assert.equal(codeOf(overLimit), "frame-too-large");
});

Deno.test("a JSON payload over maxJsonBytes is refused with frame-too-large; binary ones are not", () => {
  const pad = (n: number) => `{"code":"internal","message":"${"x".repeat(n - 32)}"}`;
  assert.equal(pad(1024).length, 1024);
  assert.ok(decodeFrame(handFrame(0x09, pad(1024)), limits).ok, "exactly maxJsonBytes is accepted");
  const error = errorOf(handFrame(0x09, pad(1025)));
  assert.equal(error.code, "frame-too-large");
  assert.equal(error.ref, "ERROR");
  assert.ok(decodeFrame(handFrame(0x30, SAMPLE_PAYLOADS.STREAM_FRAME), { ...limits, maxJsonBytes: 16 }).ok);
});

Deno.test("a timestamp above 2^53-1 is refused with bad-header", () => {
  const frame = pong();
  view(frame).setBigUint64(5, 2n ** 53n);
  assert.equal(codeOf(frame), "bad-header");
  assert.match(errorOf(frame).message, /timestamp 9007199254740992 is out of range/);
  view(frame).setBigUint64(5, 2n ** 53n - 1n);
  assert.ok(decodeFrame(frame, limits).ok);
});

Deno.test("a deeply nested JSON payload is decoded or refused without throwing", () => {
  const deep = "[".repeat(200_000) + "]".repeat(200_000);
  const result = decodeFrame(handFrame(0x12, `{"seq":1,"actionId":"a","ok":true,"output":${deep}}`), {
    maxFrameBytes: DEFAULT_LIMITS.maxFrameBytes,
    maxJsonBytes: DEFAULT_LIMITS.maxJsonBytes,
  });
  assert.equal(typeof result.ok, "boolean");
});

/** xorshift32: a deterministic PRNG so fuzz failures reproduce. */
function prng(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x100000000;
  };
}

function assertRefusedOrValid(bytes: Uint8Array, decodeLimits: DecodeLimits): boolean {
  let result;
  try {
    result = decodeFrame(bytes, decodeLimits);
  } catch (error) {
    const hex = Array.from(bytes.subarray(0, 64), (b) => b.toString(16).padStart(2, "0")).join("");
    throw new Error(`decodeFrame threw on ${hex}…: ${error}`);
  }
  if (result.ok) {
    assert.ok(TYPE_BY_CODE.has(bytes[0]));
    return true;
  }
  assert.ok(ERROR_CODE_NAMES.includes(result.error.code), result.error.code);
  assert.equal(typeof result.error.message, "string");
  return false;
}

Deno.test("decodeFrame() never throws on random bytes", () => {
  const random = prng(0x2545f491);
  const byte = () => Math.floor(random() * 256);
  for (let i = 0; i < 3000; i++) {
    const bytes = Uint8Array.from({ length: Math.floor(random() * 96) }, byte);
    if (i % 3 === 0 && bytes.length >= HEADER_BYTES) {
      // Make the header plausible so the fuzz reaches the payload checks.
      bytes[0] = [...TYPE_BY_CODE.keys()][Math.floor(random() * TYPE_BY_CODE.size)];
      new DataView(bytes.buffer).setUint32(1, bytes.length - HEADER_BYTES);
      new DataView(bytes.buffer).setBigUint64(5, 0n);
    }
    assertRefusedOrValid(bytes, limits);
  }
});

Deno.test("decodeFrame() never throws on mutated valid frames", () => {
  const random = prng(0x9e3779b9);
  const valid = TYPES.map((type) => encodeMessage(type, SAMPLE_PAYLOADS[type] as never, 9));
  let accepted = 0;
  for (let i = 0; i < 4000; i++) {
    const source = valid[i % valid.length];
    let bytes = source.slice();
    switch (i % 4) {
      case 0: // flip a few bytes anywhere
        for (let m = 0; m < 1 + Math.floor(random() * 4); m++) {
          bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
        }
        break;
      case 1: // flip payload bytes only, keeping the header honest
        for (let m = 0; m < 1 + Math.floor(random() * 3); m++) {
          const at = HEADER_BYTES + Math.floor(random() * (bytes.length - HEADER_BYTES));
          bytes[at] = Math.floor(random() * 256);
        }
        break;
      case 2: // truncate, or truncate and fix the length so the payload checks run
        bytes = bytes.slice(0, Math.floor(random() * bytes.length));
        if (random() < 0.5 && bytes.length >= HEADER_BYTES) {
          new DataView(bytes.buffer).setUint32(1, bytes.length - HEADER_BYTES);
        }
        break;
      case 3: { // splice random bytes into the payload and fix the length
        const extra = Uint8Array.from(
          { length: 1 + Math.floor(random() * 8) },
          () => Math.floor(random() * 256),
        );
        const at = HEADER_BYTES + Math.floor(random() * (bytes.length - HEADER_BYTES));
        bytes = new Uint8Array([...bytes.subarray(0, at), ...extra, ...bytes.subarray(at)]);
        new DataView(bytes.buffer).setUint32(1, bytes.length - HEADER_BYTES);
        break;
      }
    }
    if (assertRefusedOrValid(bytes, limits)) accepted++;
  }
  assert.ok(accepted < 4000, "mutations are mostly refused");
});

/** What decodeFrames reports for `bytes`: a type name per good frame, `!code` per refused one. */
function framesOf(bytes: Uint8Array, decodeLimits: DecodeLimits = limits): string[] {
  const out: string[] = [];
  decodeFrames(bytes, decodeLimits, (_, decoded) => {
    out.push(decoded.ok ? decoded.value.type : `!${decoded.error.code}`);
  }, null);
  return out;
}

const joined = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((part) => [...part]));

Deno.test("decodeFrames() reads every frame of a message, in order", () => {
  const bye = encodeMessage("BYE", { reason: "r" }, 1);
  assert.deepEqual(framesOf(joined(pong(), bye, pong())), ["PONG", "BYE", "PONG"]);
  assert.deepEqual(framesOf(pong()), ["PONG"], "a message of one frame");
});

Deno.test("decodeFrames() reports a frame that decodes badly and reads on", () => {
  const unknown = handFrame(0x7f, "{}");
  const badJson = handFrame(0x08, "{oops");
  assert.deepEqual(framesOf(joined(pong(), unknown, badJson, pong())), [
    "PONG",
    "!unknown-type",
    "!bad-json",
    "PONG",
  ]);
});

Deno.test("decodeFrames() ends a message at fewer than 13 bytes left or a Length running past its end", () => {
  assert.deepEqual(framesOf(joined(pong(), new Uint8Array([6, 0, 0]))), ["PONG", "!bad-header"]);
  // A Length one too long takes the next frame's first byte: that frame fails its layout, and what is left
  // of the next one reads as a header whose Length runs past the end.
  const overrun = pong();
  view(overrun).setUint32(1, 9);
  assert.deepEqual(framesOf(joined(pong(), overrun, pong())), [
    "PONG",
    "!schema-violation",
    "!length-mismatch",
  ]);
  const runaway = pong();
  view(runaway).setUint32(1, 500);
  assert.deepEqual(framesOf(joined(pong(), runaway, pong())), ["PONG", "!length-mismatch"]);
  assert.deepEqual(framesOf(new Uint8Array()), ["!bad-header"], "an empty message");
});

Deno.test("decodeFrames() refuses a whole message over the frame limit, whatever frames it holds", () => {
  const many = joined(...Array.from({ length: 200 }, () => pong()));
  assert.ok(many.byteLength > limits.maxFrameBytes);
  assert.deepEqual(framesOf(many), ["!frame-too-large"]);
});
