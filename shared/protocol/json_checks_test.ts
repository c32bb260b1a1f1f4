import assert from "node:assert/strict";
import { decodeFrame, encodeMessage } from "./codec.ts";
import { JSON_CHECKS } from "./json_checks.ts";
import { type MessageType, MessageTypes } from "./messages.ts";
import { SAMPLE_PAYLOADS } from "./vectors.ts";

const SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

/** Valid payloads in the schema's output form (every default present). */
const BASES: Record<string, Record<string, unknown>[]> = {
  RESULT: [
    SAMPLE_PAYLOADS.RESULT as Record<string, unknown>,
    { seq: 1, taskId: "t", ok: true, artifacts: [{ artifact: "a", file: "f", size: 0, sha256: SHA }] },
    {
      seq: 2,
      actionId: "a",
      taskId: "t",
      ok: false,
      error: { code: "timeout", message: "m", retryable: true },
    },
    { seq: 3, actionId: "a", ok: true, output: { nested: [1, "x", null] } },
    { seq: 4, actionId: "a", ok: true, output: null },
  ],
  EXECUTE_TASK: [
    { ...SAMPLE_PAYLOADS.EXECUTE_TASK as Record<string, unknown>, goal: "g" },
    {
      seq: 1,
      taskId: "t",
      dagId: "d",
      nodeId: "n",
      attempt: 2,
      kind: "agent",
      inputs: [],
      outputs: [],
      deadlineMs: 0,
    },
  ],
  ERROR: [
    SAMPLE_PAYLOADS.ERROR as Record<string, unknown>,
    { code: "rate-limited", message: "", ref: "12", retryAfterMs: 0 },
    { code: "timeout", message: "m".repeat(2000), ref: "r".repeat(200), retryAfterMs: 3_600_000 },
  ],
  ACTION_TYPE: [
    SAMPLE_PAYLOADS.ACTION_TYPE as Record<string, unknown>,
    { seq: 1, actionId: "a", taskId: "t", text: "x".repeat(10_000) },
  ],
};

/** Values that break some rule somewhere. */
const ODD_VALUES: unknown[] = [
  undefined,
  null,
  "",
  "x",
  "x".repeat(129),
  "x".repeat(1025),
  "x".repeat(2001),
  "x".repeat(10_001),
  0,
  -1,
  1.5,
  2 ** 53,
  true,
  false,
  [],
  {},
  [{}],
  "internal",
  "not-a-code",
  "x".repeat(200),
  "x".repeat(201),
  3_600_000,
  3_600_001,
  "script",
  "AA".repeat(32),
  SHA,
  { code: "timeout", message: "m" },
  { code: "timeout", message: "m", retryable: false, extra: 1 },
  { receivedAtMs: 1, startedAtMs: 2 },
  { receivedAtMs: 1, startedAtMs: 2, endedAtMs: -3 },
  [{ artifact: "a", file: "f" }],
  [{ artifact: "a", file: "f", size: 1, sha256: SHA, more: true }],
  Array.from({ length: 101 }, () => ({ artifact: "a", file: "f", size: 1, sha256: SHA })),
  [{ type: "move", x: 1, y: 2 }],
];

/** Every payload one change away from `base`: each key set to each odd value, removed, or an extra key. */
function* mutations(base: Record<string, unknown>): Generator<Record<string, unknown>> {
  const keys = [
    ...Object.keys(base),
    ...["extra", "steps", "goal", "error", "timings", "artifacts", "output", "ref", "retryAfterMs", "taskId"],
  ];
  for (const key of keys) {
    const { [key]: _dropped, ...without } = base;
    yield without;
    for (const value of ODD_VALUES) yield { ...base, [key]: value };
  }
  for (const [key, value] of Object.entries(base)) {
    if (Array.isArray(value) && value.length > 0 && typeof value[0] === "object") {
      for (const inner of Object.keys(value[0] as object)) {
        for (const odd of ODD_VALUES) yield { ...base, [key]: [{ ...(value[0] as object), [inner]: odd }] };
      }
    } else if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      for (const inner of [...Object.keys(value), "extra"]) {
        for (const odd of ODD_VALUES) yield { ...base, [key]: { ...value, [inner]: odd } };
      }
    }
  }
}

Deno.test("each precompiled check accepts only what its schema accepts, returning what the schema returns", () => {
  for (const [type, bases] of Object.entries(BASES)) {
    const check = JSON_CHECKS[type as MessageType]!;
    const schema = MessageTypes[type as MessageType].schema!;
    let taken = 0;
    let checked = 0;
    for (const base of bases) {
      for (const candidate of [base, ...mutations(base)]) {
        // What the wire would carry: the candidate through JSON.
        const json = JSON.parse(JSON.stringify(candidate));
        const parsed = schema.safeParse(json);
        const fast = check(structuredClone(json));
        checked++;
        if (fast === null) continue;
        taken++;
        assert.ok(parsed.success, `${type}: the check took what the schema refuses: ${JSON.stringify(json)}`);
        assert.deepEqual(fast, parsed.data, `${type}: ${JSON.stringify(json)}`);
      }
    }
    assert.ok(taken >= bases.length, `${type}: the check takes the valid payloads (${taken} of ${checked})`);
  }
});

Deno.test("the precompiled checks take the valid payloads in output form, so zod is not asked for them", () => {
  for (const [type, bases] of Object.entries(BASES)) {
    for (const base of bases) {
      assert.notEqual(JSON_CHECKS[type as MessageType]!(JSON.parse(JSON.stringify(base))), null, type);
    }
  }
  // A task with steps, or a failure without its `retryable`, is left to the schema (which fills it in).
  assert.equal(JSON_CHECKS.EXECUTE_TASK!({ ...BASES.EXECUTE_TASK[1], steps: [] }), null);
  const noRetryable = { seq: 1, taskId: "t", ok: false, error: { code: "timeout" as const, message: "m" } };
  assert.equal(JSON_CHECKS.RESULT!(noRetryable), null);
  const decoded = decodeFrame(encodeMessage("RESULT", noRetryable, 0));
  assert.ok(decoded.ok && decoded.value.type === "RESULT");
  assert.equal(decoded.value.payload.error?.retryable, false, "the schema's default is filled in");
});

Deno.test("RESULT's cross-field rules hold on the fast path too", () => {
  const neither = decodeFrame(encodeMessage("RESULT", { seq: 1, ok: true } as never, 0));
  assert.ok(!neither.ok);
  assert.match(neither.error.message, /names a taskId or an actionId/);
  const failedWithoutError = decodeFrame(encodeMessage("RESULT", { seq: 1, taskId: "t", ok: false }, 0));
  assert.ok(!failedWithoutError.ok);
  assert.match(failedWithoutError.error.message, /a failed RESULT carries an error/);
});
