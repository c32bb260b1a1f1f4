import assert from "node:assert/strict";
import { ACTION_MESSAGE, DeviceActionSchema } from "../actions.ts";
import { MessageTypes } from "./messages.ts";
import { SAMPLE_PAYLOADS } from "./vectors.ts";

const ODD = [
  undefined,
  null,
  "",
  "x",
  "x".repeat(10_001),
  0,
  -1,
  1.5,
  100_001,
  -100_001,
  2,
  true,
  [],
  {},
  [
    "a",
  ],
  "left",
  "png",
  "ctrl+c",
  "bad keys",
];

Deno.test("every action message accepts exactly what its action schema accepts, envelope aside (the device does not check twice)", () => {
  for (const [action, messageType] of Object.entries(ACTION_MESSAGE)) {
    const schema = MessageTypes[messageType].schema;
    const sample = SAMPLE_PAYLOADS[messageType] as Record<string, unknown>;
    const { seq: _seq, actionId: _actionId, taskId: _taskId, ...fields } = sample;
    const candidates = [fields];
    for (const key of [...Object.keys(fields), "x", "text", "extra"]) {
      for (const value of ODD) candidates.push({ ...fields, [key]: value });
    }
    for (const candidate of candidates) {
      const asMessage = schema.safeParse({ ...candidate, seq: 1, actionId: "a" });
      const asAction = DeviceActionSchema.safeParse({ type: action, ...candidate });
      const label = `${messageType} ${JSON.stringify(candidate)}`;
      assert.equal(asMessage.success, asAction.success, label);
      if (asMessage.success && asAction.success) {
        const { seq: _s, actionId: _a, ...decoded } = asMessage.data as Record<string, unknown>;
        assert.deepEqual({ type: action, ...decoded }, asAction.data, label);
      }
    }
  }
});
