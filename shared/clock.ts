/** A source of time, injected so that pure code and tests never read the real clock. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

/** A clock that reads the system time. */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to, for deterministic tests. */
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
