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
