/**
 * The latest frame of each device, fed by whichever path brought it (the `frames` data channel or
 * STREAM_FRAME), and the rate frames arrive at. The Brain reads frames here (`getFrame`); the REST API
 * reads the rates (`stats`).
 */
import type { Clock } from "../../shared/clock.ts";
import { type Failure, FailureError, type FrameMeta, type StreamFrame } from "../../shared/protocol/mod.ts";
import type { FrameArrivalPath } from "../gateway/action_dispatcher.ts";

/** Which path a frame travelled (the dispatcher's name for it). */
export type FramePath = FrameArrivalPath;

/** A frame as the server keeps it. */
export interface StoredFrame {
  meta: FrameMeta;
  image: Uint8Array;
  path: FramePath;
  receivedAtMs: number;
}

/** Options of `getFrame`. */
export interface GetFrameOptions {
  /**
   * true: always ask the device for a new capture; false (default): the latest frame when there is one,
   * else a new capture; a number: the latest frame if it is at most that many ms old, else a new capture.
   */
  fresh?: boolean | number;
  format?: "jpeg" | "png";
  scale?: number;
  quality?: number;
  signal?: AbortSignal;
  /** The task the capture is part of (a running node's), so the device accepts it while busy with it. */
  taskId?: string;
}

/** Asks a device for a capture (the action dispatcher's `frame` action): the frame, or why there is none. */
export type FrameRequester = (
  deviceId: string,
  options: { format: "jpeg" | "png"; scale: number; quality: number; signal?: AbortSignal; taskId?: string },
) => Promise<{ ok: true; frame: StreamFrame } | { ok: false; error: Failure }>;

/** The window the rates are measured over. */
export const RATE_WINDOW_MS = 5000;

interface DeviceFrames {
  latest: StoredFrame | null;
  /** Arrival times and sizes within the rate window, oldest first. */
  arrivals: Array<{ atMs: number; bytes: number }>;
}

/** Per-device latest frames and frame rates. */
export class FrameStore {
  readonly #devices = new Map<string, DeviceFrames>();

  constructor(readonly deps: { clock: Clock; request?: FrameRequester }) {}

  /** Records a frame that arrived from `deviceId` over `path`. */
  put(deviceId: string, frame: StreamFrame, path: FramePath): void {
    const nowMs = this.deps.clock.now();
    let entry = this.#devices.get(deviceId);
    if (entry === undefined) this.#devices.set(deviceId, entry = { latest: null, arrivals: [] });
    entry.latest = { ...frame, path, receivedAtMs: nowMs };
    entry.arrivals.push({ atMs: nowMs, bytes: frame.image.byteLength });
    this.#trim(entry, nowMs);
  }

  /** The latest frame of a device, or null. */
  latest(deviceId: string): StoredFrame | null {
    return this.#devices.get(deviceId)?.latest ?? null;
  }

  /**
   * A frame for the Brain: the stored one when fresh enough (see `GetFrameOptions.fresh`), else a new one.
   * Null only when nothing is stored and no requester was given; a failed capture throws its `FailureError`.
   */
  async getFrame(deviceId: string, options: GetFrameOptions = {}): Promise<StoredFrame | null> {
    const fresh = options.fresh ?? false;
    const latest = this.latest(deviceId);
    if (latest !== null && fresh !== true) {
      const ageMs = this.deps.clock.now() - latest.receivedAtMs;
      if (fresh === false || ageMs <= fresh) return latest;
    }
    if (this.deps.request === undefined) return latest;
    const frame = await this.deps.request(deviceId, {
      format: options.format ?? "jpeg",
      scale: options.scale ?? 1,
      quality: options.quality ?? 80,
      signal: options.signal,
      taskId: options.taskId,
    });
    if (!frame.ok) throw new FailureError(frame.error);
    // The frame went through `put` on its way here (the dispatcher feeds the store); that copy knows its path.
    return this.latest(deviceId) ?? { ...frame.frame, path: "wss", receivedAtMs: this.deps.clock.now() };
  }

  /** Frames per second, bytes per second (over the last 5 s) and age of the latest frame. */
  stats(deviceId: string): { fps: number; bytesPerSecond: number; lastFrameAgeMs: number | null } {
    const entry = this.#devices.get(deviceId);
    if (entry === undefined) return { fps: 0, bytesPerSecond: 0, lastFrameAgeMs: null };
    const nowMs = this.deps.clock.now();
    this.#trim(entry, nowMs);
    const bytes = entry.arrivals.reduce((sum, arrival) => sum + arrival.bytes, 0);
    const seconds = RATE_WINDOW_MS / 1000;
    return {
      fps: Math.round((entry.arrivals.length / seconds) * 100) / 100,
      bytesPerSecond: Math.round(bytes / seconds),
      lastFrameAgeMs: entry.latest === null ? null : nowMs - entry.latest.receivedAtMs,
    };
  }

  /** Forgets a device (it went offline: its frames are stale). Its latest frame stays for the record. */
  forgetRate(deviceId: string): void {
    const entry = this.#devices.get(deviceId);
    if (entry !== undefined) entry.arrivals = [];
  }

  #trim(entry: DeviceFrames, nowMs: number): void {
    let drop = 0;
    while (drop < entry.arrivals.length && nowMs - entry.arrivals[drop].atMs > RATE_WINDOW_MS) drop++;
    if (drop > 0) entry.arrivals.splice(0, drop);
  }
}
