import assert from "node:assert/strict";
import { fakeClock } from "../../shared/testing/fake_clock.ts";
import type { Logger } from "../log.ts";
import { StorageError } from "./errors.ts";
import { StoreHealth } from "./health.ts";

function recorder() {
  const lines: string[] = [];
  const logger: Logger = {
    info: (message) => lines.push(`info ${message}`),
    warn: (message) => lines.push(`warn ${message}`),
    error: (message) => lines.push(`error ${message}`),
  };
  return { lines, logger };
}

const full = new StorageError(
  "storage-full",
  "Cannot store the change: the disk holding f is full",
  "database or disk is full",
);

Deno.test("StoreHealth reports degraded after a refused write and retries with doubling pauses up to the cap", () => {
  const clock = fakeClock();
  const { lines, logger } = recorder();
  const health = new StoreHealth({ file: "f", logger, clock, retryInitialMs: 100, retryMaxMs: 400 });
  const retries: number[] = [];
  health.onRetry(() => retries.push(clock.now()));
  try {
    const start = clock.now();
    health.failed(full);
    health.failed(full);
    assert.deepEqual(health.report(), {
      status: "degraded",
      store: "read-only",
      code: "storage-full",
      message: full.message,
      since: start,
    });
    clock.tick(100 + 200 + 400 + 400);
    assert.deepEqual(retries.map((t) => t - start), [100, 300, 700, 1100]);
    health.succeeded();
    assert.deepEqual(health.report(), { status: "ok" });
    clock.tick(10_000);
    assert.equal(retries.length, 4, "no retries once writable");
    assert.deepEqual(lines, [
      "error Store is read-only: a write failed; serving reads and retrying writes",
      "info Store takes writes again",
    ]);
  } finally {
    health.close();
  }
});

Deno.test("StoreHealth stops retrying as soon as a retry's write succeeds", () => {
  const clock = fakeClock();
  const health = new StoreHealth({ file: "f", logger: recorder().logger, clock });
  let calls = 0;
  health.onRetry(() => {
    calls++;
    if (calls === 2) health.succeeded();
  });
  try {
    health.failed(full);
    clock.tick(60_000);
    assert.equal(calls, 2);
    assert.equal(health.writable, true);
    assert.equal(clock.pendingCount(), 0);
  } finally {
    health.close();
  }
});
