/** Exponential backoff with full jitter for reconnects. Pure: randomness comes in. */

/** Backoff settings. */
export interface BackoffOptions {
  /** First delay (default 250 ms). */
  initialDelayMs: number;
  /** Upper bound of any delay (default 15 s). */
  maxDelayMs: number;
  /** Growth per attempt (default 2). */
  multiplier: number;
}

/** Defaults: 250 ms, doubling, capped at 15 s. */
export const DEFAULT_BACKOFF: BackoffOptions = { initialDelayMs: 250, maxDelayMs: 15_000, multiplier: 2 };

/**
 * The delay before reconnect attempt `attempt` (1-based): a random point between half and all of
 * the capped exponential delay, so a fleet that lost the server at once does not return at once.
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions, random: () => number): number {
  const exponential = options.initialDelayMs * options.multiplier ** Math.max(0, attempt - 1);
  const capped = Math.min(options.maxDelayMs, exponential);
  return Math.round(capped / 2 + random() * (capped / 2));
}
