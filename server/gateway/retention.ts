/**
 * Device retention: offline devices not seen for `retentionMs` are forgotten, checked on a timer (every
 * quarter of the window, at least every 100 ms and at most hourly). 0 keeps devices for ever. A device
 * that joins again after being forgotten is simply listed again, under the same id.
 */
import type { Timers } from "../../shared/clock.ts";
import type { DeviceView } from "./types.ts";

/** Settings and dependencies of the retention sweep. */
export interface RetentionOptions {
  clock: Timers;
  /** How long an offline device is kept after it was last seen; 0 = for ever. */
  retentionMs: number;
  /** Every known device. */
  devices: () => DeviceView[];
  /** Forgets one offline device; may throw (the store refused), and the next sweep tries again. */
  forget: (device: DeviceView) => void;
  /** Called when `forget` throws. */
  onError?: (device: DeviceView, error: unknown) => void;
}

/** The period of the sweep for a retention window. */
export function sweepEveryMs(retentionMs: number): number {
  return Math.min(3_600_000, Math.max(100, Math.floor(retentionMs / 4)));
}

/** Forgets offline devices past the retention window. */
export class DeviceRetention {
  readonly #options: RetentionOptions;
  readonly #timer: unknown = null;

  constructor(options: RetentionOptions) {
    this.#options = options;
    if (options.retentionMs > 0) {
      this.#timer = options.clock.setInterval(() => this.sweep(), sweepEveryMs(options.retentionMs));
    }
  }

  /** Forgets every offline device last seen `retentionMs` or more ago; returns those forgotten. */
  sweep(): DeviceView[] {
    const { clock, retentionMs } = this.#options;
    if (retentionMs <= 0) return [];
    const now = clock.now();
    const forgotten: DeviceView[] = [];
    for (const device of this.#options.devices()) {
      if (device.state !== "offline" || now - device.lastSeen < retentionMs) continue;
      try {
        this.#options.forget(device);
        forgotten.push(device);
      } catch (error) {
        this.#options.onError?.(device, error);
      }
    }
    return forgotten;
  }

  /** Stops the timer. */
  close(): void {
    if (this.#timer !== null) this.#options.clock.clearInterval(this.#timer);
  }
}
