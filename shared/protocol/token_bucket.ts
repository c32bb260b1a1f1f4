/**
 * A token bucket: `ratePerSecond` sustained, `burst` at once. The server meters each connection's incoming
 * messages with one and the Deno client paces its own sends with another, so both sides do the same
 * arithmetic. Pure: time comes in as an argument.
 */
export class TokenBucket {
  #tokens: number;
  #lastMs: number;

  /** A full bucket at `nowMs`. */
  constructor(readonly ratePerSecond: number, readonly burst: number, nowMs: number) {
    this.#tokens = burst;
    this.#lastMs = nowMs;
  }

  /** Tokens available at `nowMs` (fractional). */
  available(nowMs: number): number {
    this.#refill(nowMs);
    return this.#tokens;
  }

  /** Takes one token; false (and nothing taken) when less than one is left. */
  take(nowMs: number): boolean {
    if (this.available(nowMs) < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Whole milliseconds from `nowMs` until `count` tokens (at most `burst`) are available; 0 if they are. */
  msUntil(count: number, nowMs: number): number {
    const missing = Math.min(count, this.burst) - this.available(nowMs);
    return missing <= 0 ? 0 : Math.ceil((missing * 1000) / this.ratePerSecond);
  }

  #refill(nowMs: number): void {
    const elapsedMs = Math.max(0, nowMs - this.#lastMs);
    this.#lastMs = Math.max(this.#lastMs, nowMs);
    this.#tokens = Math.min(this.burst, this.#tokens + (elapsedMs * this.ratePerSecond) / 1000);
  }
}
