/** At most N jobs at once, the rest waiting in order; a waiting job leaves the line when its signal aborts. */
import { failure, FailureError } from "../../shared/protocol/mod.ts";

/** A bounded pool of run slots (first come, first served). */
export class Slots {
  #free: number;
  readonly #waiting: Array<{ grant(): void }> = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`Slots size must be an integer ≥ 1: ${size}`);
    }
    this.#free = size;
  }

  /** Jobs running now. */
  get running(): number {
    return this.size - this.#free;
  }

  /** Jobs waiting for a slot. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Runs `job` once a slot is free and frees the slot when it settles. Rejects with a `cancelled`
   * `FailureError` if `signal` aborts before the job starts (the job then never runs).
   */
  async run<T>(job: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.#acquire(signal);
    try {
      return await job();
    } finally {
      this.#release();
    }
  }

  #acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(cancelled(signal));
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const entry = {
        grant: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        const at = this.#waiting.indexOf(entry);
        if (at >= 0) this.#waiting.splice(at, 1);
        reject(cancelled(signal!));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiting.push(entry);
    });
  }

  #release(): void {
    const next = this.#waiting.shift();
    // The slot passes straight to the next job, so a newcomer cannot overtake the line.
    if (next !== undefined) next.grant();
    else this.#free++;
  }
}

/** The failure an aborted signal stands for: its own `FailureError` reason, else `cancelled`. */
export function cancelled(signal: AbortSignal): FailureError {
  if (signal.reason instanceof FailureError) return signal.reason;
  return new FailureError(failure("cancelled", "the caller stopped waiting"));
}
