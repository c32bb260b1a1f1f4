import assert from "node:assert/strict";
import { InboundFlow } from "./inbound_flow.ts";

/** Admits `count` reliable messages from `firstSeq` at `nowMs`; returns the actions. */
function burst(flow: InboundFlow, firstSeq: number, count: number, nowMs: number): string[] {
  return Array.from({ length: count }, (_, i) => flow.admit("RESULT", firstSeq + i, nowMs).action);
}

Deno.test("InboundFlow delivers a burst of twice the rate, then refuses the next reliable message by its seq", () => {
  const flow = new InboundFlow(10, 0);
  assert.deepEqual(burst(flow, 1, 20, 0), Array(20).fill("deliver"));
  const refused = flow.admit("TASK_ACCEPTED", 21, 0);
  assert.ok(refused.action === "refuse");
  assert.equal(refused.error.code, "rate-limited");
  assert.equal(refused.error.ref, "21");
  assert.equal(refused.error.retryAfterMs, 1000, "until one second's worth of messages is back");
  assert.match(
    refused.error.message,
    /more than 10 messages\/s; TASK_ACCEPTED seq 21 not accepted, resend from it/,
  );
  assert.equal(refused.counted, false, "a refusal is forgiven at first");
  assert.equal(flow.resendFrom, 21);
});

Deno.test("InboundFlow discards reliable messages after a refused seq until that seq comes again (go-back-N)", () => {
  const flow = new InboundFlow(10, 0);
  burst(flow, 1, 20, 0);
  assert.equal(flow.admit("RESULT", 21, 0).action, "refuse");
  assert.deepEqual(
    burst(flow, 22, 3, 0),
    ["discard", "discard", "discard"],
    "in flight when refused: no ERROR",
  );
  assert.deepEqual(burst(flow, 22, 3, 5_000), ["discard", "discard", "discard"], "even with tokens back");
  assert.equal(flow.admit("PONG", undefined, 5_000).action, "deliver", "unreliable ones still pass");
  assert.equal(flow.admit("RESULT", 20, 5_000).action, "deliver", "an older seq passes (the inbox drops it)");
  assert.deepEqual(burst(flow, 21, 4, 5_000), ["deliver", "deliver", "deliver", "deliver"]);
  assert.equal(flow.resendFrom, null);
});

Deno.test("InboundFlow refuses a resend that comes too early by the same seq, with a fresh retryAfterMs", () => {
  const flow = new InboundFlow(10, 0);
  burst(flow, 1, 20, 0);
  flow.admit("RESULT", 21, 0);
  const again = flow.admit("RESULT", 21, 50);
  assert.ok(again.action === "refuse");
  assert.deepEqual([again.error.ref, again.error.retryAfterMs], ["21", 950]);
});

Deno.test("InboundFlow drops an unreliable message over the limit with an ERROR naming its type", () => {
  const flow = new InboundFlow(1, 0);
  flow.admit("PONG", undefined, 0);
  flow.admit("PONG", undefined, 0);
  const dropped = flow.admit("PONG", undefined, 0);
  assert.ok(dropped.action === "refuse");
  assert.deepEqual([dropped.error.ref, dropped.error.retryAfterMs], ["PONG", 1000]);
  assert.equal(flow.resendFrom, null, "nothing to resend");
});

Deno.test("InboundFlow forgives one second's worth of refusals, counts every one past that, and forgives again later", () => {
  const flow = new InboundFlow(5, 0);
  burst(flow, 1, 10, 0);
  const counted = Array.from({ length: 8 }, () => {
    const admission = flow.admit("PONG", undefined, 0);
    return admission.action === "refuse" && admission.counted;
  });
  assert.deepEqual(counted, [false, false, false, false, false, true, true, true]);
  const later = flow.admit("SEQ_ACK", undefined, 12_000);
  assert.equal(later.action, "deliver");
  assert.deepEqual(burst(flow, 11, 9, 12_000), Array(9).fill("deliver"));
  const forgiven = flow.admit("PONG", undefined, 12_000);
  assert.ok(
    forgiven.action === "refuse" && !forgiven.counted,
    "12 s refill one forgiven refusal (5 per minute)",
  );
});

Deno.test("InboundFlow counts a sender that keeps sending past a refused seq, naming the seq to resend from", () => {
  const flow = new InboundFlow(5, 0);
  burst(flow, 1, 10, 0);
  assert.equal(flow.admit("RESULT", 11, 0).action, "refuse");
  const later = Array.from({ length: 6 }, (_, i) => flow.admit("RESULT", 12 + i, 0));
  assert.deepEqual(later.map((a) => a.action), [
    "discard",
    "discard",
    "discard",
    "discard",
    "refuse",
    "refuse",
  ]);
  const counted = later[5];
  assert.ok(counted.action === "refuse" && counted.counted);
  assert.equal(counted.error.ref, "11", "the ERROR still asks for the refused seq");
});
