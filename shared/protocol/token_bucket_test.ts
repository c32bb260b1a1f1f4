import assert from "node:assert/strict";
import { TokenBucket } from "./token_bucket.ts";

Deno.test("TokenBucket starts full, refills at its rate up to its burst, and says how long until n tokens", () => {
  const bucket = new TokenBucket(10, 4, 0);
  assert.deepEqual([1, 2, 3, 4, 5].map(() => bucket.take(0)), [true, true, true, true, false]);
  assert.equal(bucket.msUntil(1, 0), 100);
  assert.equal(bucket.msUntil(3, 0), 300);
  assert.equal(bucket.msUntil(99, 0), 400, "never more than the burst");
  assert.equal(bucket.take(99), false);
  assert.equal(bucket.take(100), true);
  assert.equal(bucket.available(10_000), 4, "capped at the burst");
  assert.equal(bucket.msUntil(1, 10_000), 0);
  assert.equal(bucket.take(5_000), true, "time going backwards neither refills nor throws");
});
