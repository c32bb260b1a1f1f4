/** A token bucket: `ratePerSecond` sustained, `burst` at once. Pure: time comes in as an argument. */
export class TokenBucket {
  #tokens: number;
  #lastMs: number;

  constructor(readonly ratePerSecond: number, readonly burst: number, nowMs: number) {
    this.#tokens = burst;
    this.#lastMs = nowMs;
  }

  /** Takes one token; false when the bucket is empty. */
  take(nowMs: number): boolean {
    const elapsedMs = Math.max(0, nowMs - this.#lastMs);
    this.#lastMs = nowMs;
    this.#tokens = Math.min(this.burst, this.#tokens + (elapsedMs * this.ratePerSecond) / 1000);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/** Counts events in a sliding window; used to disconnect repeat offenders. */
export class WindowCounter {
  #timesMs: number[] = [];

  constructor(readonly windowMs: number) {}

  /** Records an event and returns how many fell inside the window, this one included. */
  record(nowMs: number): number {
    this.#timesMs.push(nowMs);
    while (this.#timesMs.length > 0 && this.#timesMs[0] <= nowMs - this.windowMs) this.#timesMs.shift();
    return this.#timesMs.length;
  }
}
