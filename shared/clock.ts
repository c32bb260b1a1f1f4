/**
 * Time, injected: pure code reads `Clock.now()`, shell code also waits through `Timers`, and tests hand
 * in a fake (`shared/testing/fake_clock.ts`) that only moves when told to. Nothing here runs at import.
 */

/** A source of time, injected so that pure code and tests never read the real clock. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

/** An opaque handle of a scheduled callback. */
export type TimerHandle = unknown;

/** A clock that can also run callbacks later: the only way shell code waits. */
export interface Timers extends Clock {
  /** Runs `callback` once after `delayMs`. */
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  /** Cancels a `setTimeout`; `undefined` and finished handles are ignored. */
  clearTimeout(handle: TimerHandle | undefined): void;
  /** Runs `callback` every `intervalMs`. */
  setInterval(callback: () => void, intervalMs: number): TimerHandle;
  /** Cancels a `setInterval`; `undefined` is ignored. */
  clearInterval(handle: TimerHandle | undefined): void;
}

/** The system clock and the runtime's timers (Deno or the browser). */
export const systemClock: Timers = {
  now: () => Date.now(),
  setTimeout: (callback, delayMs) => globalThis.setTimeout(callback, delayMs),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as number | undefined),
  setInterval: (callback, intervalMs) => globalThis.setInterval(callback, intervalMs),
  clearInterval: (handle) => globalThis.clearInterval(handle as number | undefined),
};

/** Resolves after `delayMs` on `timers`, or at once (without rejecting) when `signal` aborts. */
export function sleep(timers: Timers, delayMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      timers.clearTimeout(handle);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const handle = timers.setTimeout(done, delayMs);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** A clock that only moves when told to, for deterministic tests of pure code. */
export class ManualClock implements Clock {
  #nowMs: number;

  /** Starts the clock at `startMs` (Unix ms). */
  constructor(startMs = 1_700_000_000_000) {
    this.#nowMs = startMs;
  }

  /** The current fake time. */
  now(): number {
    return this.#nowMs;
  }

  /** Moves the clock forward by `ms`. */
  advance(ms: number): void {
    this.#nowMs += ms;
  }
}

/** Timers by key: setting a key again replaces its timer; a fired timer forgets its key first. */
export class KeyedTimers {
  readonly #handles = new Map<string, TimerHandle>();

  constructor(readonly timers: Timers) {}

  /** Runs `fire` after `delayMs` (at once when negative), replacing any timer under `key`. */
  set(key: string, delayMs: number, fire: () => void): void {
    this.clear(key);
    this.#handles.set(
      key,
      this.timers.setTimeout(() => {
        this.#handles.delete(key);
        fire();
      }, Math.max(0, delayMs)),
    );
  }

  /** Whether a timer is pending under `key`. */
  has(key: string): boolean {
    return this.#handles.has(key);
  }

  /** Cancels the timer under `key`, if any. */
  clear(key: string): void {
    this.timers.clearTimeout(this.#handles.get(key));
    this.#handles.delete(key);
  }

  /** Cancels every timer. */
  clearAll(): void {
    for (const handle of this.#handles.values()) this.timers.clearTimeout(handle);
    this.#handles.clear();
  }
}
