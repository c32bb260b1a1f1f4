/**
 * Still frames on the WebRTC `frames` data channel. A frame is the STREAM_FRAME payload (u32 metadata
 * length, metadata JSON, image bytes: `binary_payloads.ts`), cut into messages that fit the channel's
 * max-message-size, each with a 13-byte header:
 *
 * | offset | size | field      | meaning                                           |
 * | ------ | ---- | ---------- | ------------------------------------------------- |
 * | 0      | 1    | kind       | `0x01` (frame chunk)                              |
 * | 1      | 4    | frameId    | u32 BE, the sender's frame counter                |
 * | 5      | 4    | totalBytes | u32 BE, size of the whole frame payload           |
 * | 9      | 4    | offset     | u32 BE, where this chunk's data starts            |
 * | 13     | rest | data       | the bytes                                         |
 *
 * The channel is reliable and ordered, so chunks of a frame arrive contiguous; the reassembler still
 * checks every field and drops (with a reason) what does not fit. Pure code: Deno and the browser.
 */
import { err, ok, type Result } from "../result.ts";
import { decodeStreamFrame, encodeStreamFrame, type StreamFrame } from "../protocol/binary_payloads.ts";
import type { FrameMeta } from "../protocol/binary_payloads.ts";

/** Bytes of a chunk header. */
export const CHUNK_HEADER_BYTES = 13;
/** The `kind` byte of a frame chunk. */
export const FRAME_CHUNK_KIND = 0x01;
/**
 * Largest data channel message we send: werift advertises (and enforces) a max-message-size of 64 KiB,
 * and 64 KiB messages moved a 205 KiB frame fastest between werift peers here (bench/media_bench.ts).
 */
export const DEFAULT_CHUNK_MESSAGE_BYTES = 64 * 1024;

/** One parsed chunk. */
export interface FrameChunk {
  frameId: number;
  totalBytes: number;
  offset: number;
  data: Uint8Array;
}

/** Cuts a frame (metadata and image) into data channel messages of at most `messageBytes` each. */
export function chunkFrame(
  frameId: number,
  meta: FrameMeta,
  image: Uint8Array,
  messageBytes = DEFAULT_CHUNK_MESSAGE_BYTES,
): Uint8Array[] {
  return chunkPayload(frameId, encodeStreamFrame(meta, image), messageBytes);
}

/** Cuts an encoded frame payload into data channel messages of at most `messageBytes` each. */
export function chunkPayload(frameId: number, payload: Uint8Array, messageBytes: number): Uint8Array[] {
  const room = messageBytes - CHUNK_HEADER_BYTES;
  if (room <= 0) throw new RangeError(`Cannot chunk frame: message size ${messageBytes} leaves no room`);
  const chunks: Uint8Array[] = [];
  for (let offset = 0; offset < payload.byteLength || offset === 0; offset += room) {
    const data = payload.subarray(offset, Math.min(payload.byteLength, offset + room));
    const out = new Uint8Array(CHUNK_HEADER_BYTES + data.byteLength);
    const view = new DataView(out.buffer);
    out[0] = FRAME_CHUNK_KIND;
    view.setUint32(1, frameId >>> 0, false);
    view.setUint32(5, payload.byteLength, false);
    view.setUint32(9, offset, false);
    out.set(data, CHUNK_HEADER_BYTES);
    chunks.push(out);
    if (payload.byteLength === 0) break;
  }
  return chunks;
}

/** Parses one data channel message as a chunk; never throws. */
export function parseChunk(message: Uint8Array): Result<FrameChunk, string> {
  if (message.byteLength < CHUNK_HEADER_BYTES) {
    return err(`chunk of ${message.byteLength} bytes is shorter than its ${CHUNK_HEADER_BYTES}-byte header`);
  }
  if (message[0] !== FRAME_CHUNK_KIND) return err(`unknown chunk kind 0x${message[0].toString(16)}`);
  const view = new DataView(message.buffer, message.byteOffset, CHUNK_HEADER_BYTES);
  const frameId = view.getUint32(1, false);
  const totalBytes = view.getUint32(5, false);
  const offset = view.getUint32(9, false);
  const data = message.subarray(CHUNK_HEADER_BYTES);
  if (offset + data.byteLength > totalBytes) {
    return err(`chunk at ${offset} of ${data.byteLength} bytes overruns frame ${frameId} of ${totalBytes}`);
  }
  return ok({ frameId, totalBytes, offset, data });
}

/** What feeding a chunk gave: nothing yet, a whole frame, or a dropped frame with the reason. */
export type ReassemblyStep =
  | { kind: "partial" }
  | { kind: "frame"; frameId: number; frame: StreamFrame; byteLength: number }
  | { kind: "dropped"; frameId: number | null; reason: string };

/** Limits of a reassembler. */
export interface ReassemblerOptions {
  /** Largest frame accepted, in bytes (the server passes its `--max-frame-bytes`). */
  maxFrameBytes: number;
}

/**
 * Puts frames together from their chunks, one frame at a time (the channel is ordered): a chunk of a new
 * frame while another is incomplete drops the incomplete one.
 */
export class FrameReassembler {
  readonly #maxFrameBytes: number;
  #current: { frameId: number; buffer: Uint8Array; received: number } | null = null;

  constructor(options: ReassemblerOptions) {
    this.#maxFrameBytes = options.maxFrameBytes;
  }

  /** Feeds one data channel message. */
  push(message: Uint8Array): ReassemblyStep {
    const parsed = parseChunk(message);
    if (!parsed.ok) return this.#drop(this.#current?.frameId ?? null, parsed.error);
    const chunk = parsed.value;
    if (chunk.totalBytes > this.#maxFrameBytes) {
      this.#current = null;
      return {
        kind: "dropped",
        frameId: chunk.frameId,
        reason: `frame of ${chunk.totalBytes} bytes exceeds ${this.#maxFrameBytes}`,
      };
    }
    let current = this.#current;
    if (current !== null && current.frameId !== chunk.frameId) {
      const stale = current.frameId;
      this.#current = null;
      current = null;
      if (chunk.offset !== 0) return this.#drop(chunk.frameId, "chunk does not start at 0");
      // The earlier frame can no longer complete; report it and go on with this one.
      const step = this.#start(chunk);
      return step.kind === "partial"
        ? { kind: "dropped", frameId: stale, reason: "frame left incomplete" }
        : step;
    }
    if (current === null) {
      if (chunk.offset !== 0) {
        return this.#drop(chunk.frameId, `first chunk starts at ${chunk.offset}, not 0`);
      }
      return this.#start(chunk);
    }
    if (chunk.offset !== current.received || chunk.totalBytes !== current.buffer.byteLength) {
      return this.#drop(chunk.frameId, `chunk at ${chunk.offset} does not follow ${current.received}`);
    }
    current.buffer.set(chunk.data, chunk.offset);
    current.received += chunk.data.byteLength;
    return this.#complete();
  }

  #start(chunk: FrameChunk): ReassemblyStep {
    const buffer = chunk.data.byteLength === chunk.totalBytes ? chunk.data : new Uint8Array(chunk.totalBytes);
    if (buffer !== chunk.data) buffer.set(chunk.data, 0);
    this.#current = { frameId: chunk.frameId, buffer, received: chunk.data.byteLength };
    return this.#complete();
  }

  #complete(): ReassemblyStep {
    const current = this.#current!;
    if (current.received < current.buffer.byteLength) return { kind: "partial" };
    this.#current = null;
    const decoded = decodeStreamFrame(current.buffer);
    if (!decoded.ok) return { kind: "dropped", frameId: current.frameId, reason: decoded.error.message };
    return {
      kind: "frame",
      frameId: current.frameId,
      frame: decoded.value,
      byteLength: current.buffer.byteLength,
    };
  }

  #drop(frameId: number | null, reason: string): ReassemblyStep {
    this.#current = null;
    return { kind: "dropped", frameId, reason };
  }
}

/** A data channel as a chunk sender sees it: the browser's RTCDataChannel and werift's both fit. */
export interface ChunkChannel {
  send(bytes: Uint8Array): void;
  readonly bufferedAmount: number;
  /** Resolves when the channel's buffer has drained below its low threshold (or it closed). */
  drained(): Promise<void>;
  readonly isOpen: boolean;
}

/**
 * Sends chunks, waiting for the buffer to drain whenever it holds more than `highWaterBytes`, so a large
 * frame never piles up unbounded in the channel's buffer. Resolves false if the channel closed midway.
 */
export async function sendChunks(
  channel: ChunkChannel,
  chunks: readonly Uint8Array[],
  highWaterBytes = 1024 * 1024,
): Promise<boolean> {
  for (const chunk of chunks) {
    if (!channel.isOpen) return false;
    if (channel.bufferedAmount > highWaterBytes) await channel.drained();
    if (!channel.isOpen) return false;
    channel.send(chunk);
  }
  return true;
}

/**
 * A peer's outgoing frames: each is numbered, chunked and queued behind the frames before it, so that two
 * never interleave on the ordered channel. The Deno client's peer and the browser's both send through one.
 */
export class FrameSender {
  #nextFrameId = 1;
  #queue: Promise<unknown> = Promise.resolve();

  /** `messageBytes` and `highWaterBytes` as `chunkFrame` and `sendChunks` take them. */
  constructor(
    readonly messageBytes: number = DEFAULT_CHUNK_MESSAGE_BYTES,
    readonly highWaterBytes?: number,
  ) {}

  /** Queues a frame for `channel`; one the channel closes on midway is lost (the runtime chose the channel). */
  send(channel: ChunkChannel, meta: FrameMeta, image: Uint8Array): void {
    const chunks = chunkFrame(this.#nextFrameId++ >>> 0, meta, image, this.messageBytes);
    this.#queue = this.#queue.then(() => sendChunks(channel, chunks, this.highWaterBytes)).catch(() => {});
  }
}
