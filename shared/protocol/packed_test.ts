import assert from "node:assert/strict";
import type { z } from "zod";
import { decodeFrame, encodeMessage } from "./codec.ts";
import { HEADER_BYTES } from "./header.ts";
import { MessageTypes, type PayloadOf } from "./messages.ts";
import { BUTTON_CODES, PACKED_LAYOUTS, type PackedType } from "./packed.ts";
import { SAMPLE_PAYLOADS } from "./vectors.ts";

const PACKED = Object.keys(PACKED_LAYOUTS) as PackedType[];
const utf8 = new TextEncoder();

/**
 * A second, deliberately plain implementation of the layouts, read straight off `PACKED_LAYOUTS`: the
 * codec's hand-written code must produce the same bytes.
 */
function referencePayload(type: PackedType, payload: Record<string, unknown>): Uint8Array {
  const out: number[] = [];
  const push = (value: bigint, bytes: number) => {
    for (let i = bytes - 1; i >= 0; i--) out.push(Number((value >> BigInt(8 * i)) & 0xffn));
  };
  for (const { name, kind } of PACKED_LAYOUTS[type]) {
    const value = payload[name];
    if (kind === "u64") push(BigInt(value as number), 8);
    else if (kind === "i32") push(BigInt.asUintN(32, BigInt(value as number)), 4);
    else if (kind === "u8") {
      out.push(name === "button" ? BUTTON_CODES.indexOf((value ?? "left") as "left") : value ? 1 : 0);
    } else {
      const bytes = value === undefined ? new Uint8Array() : utf8.encode(value as string);
      push(BigInt(bytes.length), 2);
      out.push(...bytes);
    }
  }
  return Uint8Array.from(out);
}

/** A frame of `type` around a hand-made packed payload. */
function frameOf(type: PackedType, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(HEADER_BYTES + payload.length);
  frame[0] = MessageTypes[type].code;
  new DataView(frame.buffer).setUint32(1, payload.length);
  frame.set(payload, HEADER_BYTES);
  return frame;
}

function refusal(type: PackedType, payload: Uint8Array): string {
  const decoded = decodeFrame(frameOf(type, payload));
  assert.ok(!decoded.ok, `${type} should be refused`);
  assert.equal(decoded.error.code, "schema-violation");
  assert.equal(decoded.error.ref, type);
  return decoded.error.message;
}

const long = (n: number, unit = "x") => unit.repeat(n);

/** Valid payloads of each packed type, from the ordinary to the extremes of each field. */
const VALID: { [T in PackedType]: PayloadOf<T>[] } = {
  PING: [{ id: 0, sentAtMs: 0 }, { id: Number.MAX_SAFE_INTEGER, sentAtMs: Number.MAX_SAFE_INTEGER }],
  PONG: [{ id: 0 }, { id: 1_000_000_123 }, { id: Number.MAX_SAFE_INTEGER }],
  SEQ_ACK: [{ seq: 0 }, { seq: 2 ** 32 }, { seq: Number.MAX_SAFE_INTEGER }],
  TASK_ACCEPTED: [{ seq: 1, taskId: "t" }, { seq: 2 ** 40 + 7, taskId: long(128, "é") }],
  FINISH_TASK: [{ seq: Number.MAX_SAFE_INTEGER, taskId: "\ufeffbom-kept" }, { seq: 3, taskId: long(128) }],
  ACTION_MOVE: [
    { seq: 1, actionId: "a", x: -100_000, y: 100_000 },
    { seq: 5, actionId: long(128, "✓"), taskId: "d.n.1", x: 0, y: -1 },
  ],
  ACTION_CLICK: [
    { seq: 1, actionId: "a", x: 1, y: 2, button: "left", double: false },
    {
      seq: 2,
      actionId: "😀".repeat(64),
      taskId: long(128),
      x: -100_000,
      y: 100_000,
      button: "right",
      double: true,
    },
    { seq: 3, actionId: "b", x: 0, y: 0, button: "middle", double: false },
  ],
};

Deno.test("packed payloads are exactly the bytes PACKED_LAYOUTS describes", () => {
  for (const type of PACKED) {
    for (const payload of [SAMPLE_PAYLOADS[type], ...VALID[type]]) {
      const frame = encodeMessage(type, payload as never, 1);
      const expected = referencePayload(type, payload as Record<string, unknown>);
      assert.deepEqual(frame.subarray(HEADER_BYTES), expected, `${type} ${JSON.stringify(payload)}`);
      assert.equal(new DataView(frame.buffer, frame.byteOffset).getUint32(1), expected.length);
    }
  }
});

Deno.test("packed payloads round-trip to what the schema returns for the same payload, extremes included", () => {
  for (const type of PACKED) {
    const schema = MessageTypes[type].schema as z.ZodType;
    for (const payload of [SAMPLE_PAYLOADS[type], ...VALID[type]]) {
      const decoded = decodeFrame(encodeMessage(type, payload as never, 42));
      assert.ok(decoded.ok, `${type}: ${!decoded.ok && decoded.error.message}`);
      assert.equal(decoded.value.type, type);
      assert.deepEqual(decoded.value.payload, schema.parse(payload), type);
    }
  }
});

Deno.test("ACTION_CLICK's defaults are filled in by the sender: button left, double false", () => {
  const decoded = decodeFrame(encodeMessage("ACTION_CLICK", { seq: 1, actionId: "a", x: 1, y: 2 }, 0));
  assert.ok(decoded.ok && decoded.value.type === "ACTION_CLICK");
  assert.deepEqual(decoded.value.payload, {
    seq: 1,
    actionId: "a",
    x: 1,
    y: 2,
    button: "left",
    double: false,
  });
});

Deno.test("an absent taskId is a zero count and decodes to no taskId key at all", () => {
  const frame = encodeMessage("ACTION_MOVE", { seq: 1, actionId: "a", x: 1, y: 2 }, 0);
  assert.deepEqual([...frame.subarray(frame.length - 2)], [0, 0]);
  const decoded = decodeFrame(frame);
  assert.ok(decoded.ok);
  assert.ok(!("taskId" in (decoded.value.payload as object)));
});

Deno.test("a packed payload of the wrong length is refused with schema-violation naming both lengths", () => {
  for (const type of PACKED) {
    const good = referencePayload(type, SAMPLE_PAYLOADS[type] as Record<string, unknown>);
    assert.match(refusal(type, good.subarray(0, good.length - 1)), new RegExp(`^.*: ${type} payload: `));
    const longer = new Uint8Array(good.length + 1);
    longer.set(good);
    assert.match(
      refusal(type, longer),
      new RegExp(`${type} payload: ${good.length + 1} bytes, the layout needs ${good.length}$`),
    );
    assert.match(refusal(type, new Uint8Array()), new RegExp(`${type} payload: 0 bytes`));
  }
});

Deno.test("a string count that overruns the payload, or bytes that are not UTF-8, are refused", () => {
  const payload = referencePayload("TASK_ACCEPTED", { seq: 1, taskId: "abc" });
  payload[9] = 4; // count 4, 3 bytes follow
  assert.match(refusal("TASK_ACCEPTED", payload), /TASK_ACCEPTED payload: taskId overruns the payload$/);
  const click = referencePayload("ACTION_CLICK", { seq: 1, actionId: "ab", x: 0, y: 0, double: false });
  click[20] = 0xc3; // a lead byte followed by "b": not UTF-8
  assert.match(refusal("ACTION_CLICK", click), /ACTION_CLICK payload: actionId is not UTF-8$/);
  const moved = referencePayload("ACTION_MOVE", { seq: 1, actionId: "a", taskId: "t", x: 0, y: 0 });
  moved[moved.length - 1] = 0xff;
  assert.match(refusal("ACTION_MOVE", moved), /ACTION_MOVE payload: taskId is not UTF-8$/);
});

Deno.test("packed values the schema refuses get the schema's message, naming the field", () => {
  const click = (fields: Record<string, unknown>) =>
    referencePayload("ACTION_CLICK", { seq: 1, actionId: "a", x: 0, y: 0, double: false, ...fields });
  const cases: Array<[PackedType, Uint8Array, RegExp]> = [
    ["ACTION_CLICK", click({ x: 100_001 }), /ACTION_CLICK x: Too big: expected number to be <=100000$/],
    ["ACTION_CLICK", click({ y: -100_001 }), /ACTION_CLICK y: Too small/],
    ["ACTION_CLICK", click({ seq: 0 }), /ACTION_CLICK seq: Too small/],
    ["ACTION_CLICK", click({ actionId: "" }), /ACTION_CLICK actionId: Too small/],
    ["ACTION_CLICK", click({ actionId: long(129) }), /ACTION_CLICK actionId: Too big/],
    ["ACTION_CLICK", click({ taskId: long(129, "é") }), /ACTION_CLICK taskId: Too big/],
    [
      "ACTION_MOVE",
      referencePayload("ACTION_MOVE", { seq: 0, actionId: "a", x: 0, y: 0 }),
      /ACTION_MOVE seq/,
    ],
    ["TASK_ACCEPTED", referencePayload("TASK_ACCEPTED", { seq: 0, taskId: "t" }), /TASK_ACCEPTED seq/],
    ["FINISH_TASK", referencePayload("FINISH_TASK", { seq: 1, taskId: "" }), /FINISH_TASK taskId: Too small/],
  ];
  for (const [type, payload, pattern] of cases) assert.match(refusal(type, payload), pattern);
  const badButton = click({});
  badButton[16] = 3;
  assert.match(refusal("ACTION_CLICK", badButton), /ACTION_CLICK button: Invalid option/);
  const badDouble = click({});
  badDouble[17] = 2;
  assert.match(refusal("ACTION_CLICK", badDouble), /ACTION_CLICK double: Invalid input: expected boolean/);
});

Deno.test("a u64 above 2^53-1 is refused with schema-violation, in every packed type", () => {
  const high = Uint8Array.from([0x00, 0x20, 0, 0, 0, 0, 0, 0]); // 2^53
  for (const type of PACKED) {
    const payload = referencePayload(type, SAMPLE_PAYLOADS[type] as Record<string, unknown>);
    payload.set(high, 0);
    assert.match(refusal(type, payload), new RegExp(`${type} (id|seq): `), type);
  }
  const ping = referencePayload("PING", { id: 1, sentAtMs: 1 });
  ping.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 8);
  assert.match(refusal("PING", ping), /PING sentAtMs: /);
});

Deno.test("the packed decoder accepts exactly what the schema accepts, on random field values", () => {
  let state = 0x1234567;
  const random = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x1_0000_0000;
  };
  const pick = <T>(values: readonly T[]) => values[Math.floor(random() * values.length)];
  const seqs = [0, 1, 2, 2 ** 31, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER];
  const coords = [0, 1, -1, 99_999, 100_000, 100_001, -100_000, -100_001, 2 ** 31 - 1, -(2 ** 31)];
  const ids = ["", "a", long(128), long(129), long(64, "é"), long(129, "é"), "😀"];
  let accepted = 0;
  for (let i = 0; i < 3000; i++) {
    const type = pick(PACKED);
    const candidate: Record<string, unknown> = {};
    for (const { name, kind } of PACKED_LAYOUTS[type]) {
      if (kind === "u64") candidate[name] = pick(seqs);
      else if (kind === "i32") candidate[name] = pick(coords);
      else if (kind === "str") candidate[name] = pick(ids);
      else if (kind === "str?") {
        const id = pick([...ids, undefined]);
        if (id !== undefined && id !== "") candidate[name] = id;
      } else candidate[name] = name === "button" ? pick(BUTTON_CODES) : pick([true, false]);
    }
    const decoded = decodeFrame(frameOf(type, referencePayload(type, candidate)));
    const expected = (MessageTypes[type].schema as z.ZodType).safeParse(candidate);
    assert.equal(decoded.ok, expected.success, `${type} ${JSON.stringify(candidate)}`);
    if (decoded.ok && expected.success) {
      accepted++;
      assert.deepEqual(decoded.value.payload, expected.data);
    } else if (!decoded.ok && !expected.success) {
      assert.ok(decoded.error.message.endsWith(expected.error.issues[0].message), decoded.error.message);
    }
  }
  assert.ok(accepted > 300 && accepted < 2700, `a mix of valid and invalid (${accepted} accepted)`);
});

Deno.test("encodeMessage() throws a RangeError for a value a packed layout cannot carry", () => {
  const cases: Array<() => Uint8Array> = [
    () => encodeMessage("ACTION_CLICK", { seq: 1, actionId: "a", x: 1.5, y: 0 }, 0),
    () => encodeMessage("ACTION_MOVE", { seq: 1, actionId: "a", x: 0, y: 2 ** 31 }, 0),
    () => encodeMessage("SEQ_ACK", { seq: -1 }, 0),
    () => encodeMessage("PONG", { id: 2 ** 53 }, 0),
    () => encodeMessage("ACTION_CLICK", { seq: 1, actionId: "a", x: 0, y: 0, button: "side" as "left" }, 0),
    () => encodeMessage("ACTION_MOVE", { seq: 1, actionId: "a", taskId: "", x: 0, y: 0 }, 0),
    () => encodeMessage("TASK_ACCEPTED", { seq: 1, taskId: long(70_000) }, 0),
  ];
  for (const encode of cases) assert.throws(encode, RangeError);
});
