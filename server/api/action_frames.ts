/**
 * Frames captured by operator `frame` actions (`POST /api/devices/:id/actions {"type": "frame"}`), kept in
 * memory so the JSON answer can link to its image: the newest `maxFrames` across devices, at most
 * `maxBytes` in all, oldest dropped first. Nothing here outlives the server.
 */
import type { StreamFrame } from "../../shared/protocol/mod.ts";

/** Limits of the kept frames. */
export interface ActionFramesOptions {
  /** Frames kept in all (default 16). */
  maxFrames?: number;
  /** Image bytes kept in all (default 64 MiB); a single larger frame is not kept. */
  maxBytes?: number;
}

/** The newest operator frames, by device and action id. */
export class ActionFrames {
  readonly #frames = new Map<string, StreamFrame>();
  readonly #maxFrames: number;
  readonly #maxBytes: number;
  #bytes = 0;

  constructor(options: ActionFramesOptions = {}) {
    this.#maxFrames = options.maxFrames ?? 16;
    this.#maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  }

  /** Keeps the frame of `actionId` on `deviceId`; returns false when it is too large to keep. */
  put(deviceId: string, actionId: string, frame: StreamFrame): boolean {
    if (frame.image.byteLength > this.#maxBytes) return false;
    this.#frames.set(key(deviceId, actionId), frame);
    this.#bytes += frame.image.byteLength;
    // A Map iterates in insertion order: the first key is the oldest frame.
    while (this.#frames.size > this.#maxFrames || this.#bytes > this.#maxBytes) {
      const [oldest, dropped] = this.#frames.entries().next().value!;
      this.#frames.delete(oldest);
      this.#bytes -= dropped.image.byteLength;
    }
    return true;
  }

  /** The frame of `actionId` if it was taken on `deviceId` and is still kept. */
  get(deviceId: string, actionId: string): StreamFrame | undefined {
    return this.#frames.get(key(deviceId, actionId));
  }
}

function key(deviceId: string, actionId: string): string {
  return `${deviceId}\n${actionId}`;
}
