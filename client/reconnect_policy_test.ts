import assert from "node:assert/strict";
import { backoffDelayMs, DEFAULT_BACKOFF } from "./reconnect_policy.ts";

Deno.test("backoffDelayMs() doubles per attempt within half-to-full jitter", () => {
  assert.equal(backoffDelayMs(1, DEFAULT_BACKOFF, () => 0), 125);
  assert.equal(backoffDelayMs(1, DEFAULT_BACKOFF, () => 1), 250);
  assert.equal(backoffDelayMs(3, DEFAULT_BACKOFF, () => 1), 1000);
});

Deno.test("backoffDelayMs() never exceeds the cap", () => {
  for (let attempt = 1; attempt < 60; attempt++) {
    assert.ok(backoffDelayMs(attempt, DEFAULT_BACKOFF, () => 1) <= DEFAULT_BACKOFF.maxDelayMs);
  }
  assert.equal(backoffDelayMs(40, DEFAULT_BACKOFF, () => 0), DEFAULT_BACKOFF.maxDelayMs / 2);
});
