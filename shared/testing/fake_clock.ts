/**
 * A fake clock with fake timers for tests, on `@sinonjs/fake-timers`: nothing fires until the test moves
 * time with `tick` / `tickAsync`, so heartbeats, deadlines and retries run in milliseconds of real time.
 */
import FakeTimers from "@sinonjs/fake-timers";
import type { TimerHandle, Timers } from "../clock.ts";

/** `Timers` whose time moves only when the test says so. */
export interface FakeClock extends Timers {
  /** Moves time forward by `ms`, firing due timers synchronously in order. */
  tick(ms: number): void;
  /** Moves time forward by `ms`, letting promises settle between timers. */
  tickAsync(ms: number): Promise<void>;
  /** Fires every timer due now (after settling promises). */
  runDue(): Promise<void>;
  /** Timers still scheduled. */
  pendingCount(): number;
}

/** A fake clock starting at `startMs` (Unix ms). */
export function fakeClock(startMs = 1_700_000_000_000): FakeClock {
  const clock = FakeTimers.createClock(startMs);
  return {
    now: () => clock.now,
    setTimeout: (callback, delayMs) => clock.setTimeout(callback, delayMs),
    clearTimeout: (handle) => clock.clearTimeout(handle as FakeTimers.TimerId),
    setInterval: (callback, intervalMs) => clock.setInterval(callback, intervalMs),
    clearInterval: (handle) => clock.clearInterval(handle as FakeTimers.TimerId),
    tick: (ms) => void clock.tick(ms),
    tickAsync: async (ms) => void await clock.tickAsync(ms),
    runDue: async () => void await clock.tickAsync(0),
    pendingCount: () => clock.countTimers(),
  };
}

export type { TimerHandle };
