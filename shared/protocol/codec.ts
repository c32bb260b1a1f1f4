/**
 * Encodes messages to frames and decodes frames to messages. Decoding never throws: hostile bytes
 * come back as a typed error. Runs unchanged in Deno and the browser.
 *
 * Where the time goes, and what is done about it (`bench/codec_bench.ts` has the figures): frames are
 * carved from slabs (`frame_slab.ts`), not allocated one by one; the header is written and read byte by
 * byte; ASCII is encoded and short ASCII decoded in JS (`utf8.ts`); the hot fixed-shape types are packed
 * (`packed.ts`) rather than JSON; and the costliest JSON payloads are checked by precompiled checks
 * (`json_checks.ts`) before zod is asked.
 */
import { err, ok, type Result } from "../result.ts";
import { type ProtocolError, protocolError, schemaViolation } from "./errors.ts";
import { FrameSlab } from "./frame_slab.ts";
import { HEADER_BYTES, readU32, readU64, timestampOutOfRange, writeHeaderAt } from "./header.ts";
import { JSON_CHECKS } from "./json_checks.ts";
import {
  type Message,
  type MessageType,
  MessageTypes,
  type PayloadInputOf,
  TYPE_BY_CODE,
} from "./messages.ts";
import { type PackedType, readPacked, writePacked } from "./packed.ts";
import { readUtf8, writeUtf8 } from "./utf8.ts";

/** Size limits the decoder enforces. */
export interface DecodeLimits {
  /** Largest whole frame (header included), in bytes. */
  maxFrameBytes: number;
  /** Largest JSON payload, in bytes. */
  maxJsonBytes: number;
}

/** Defaults: 16 MiB frames, 1 MiB JSON payloads. */
export const DEFAULT_LIMITS: DecodeLimits = { maxFrameBytes: 16 * 1024 * 1024, maxJsonBytes: 1024 * 1024 };

/** What decoding needs of each type, indexed by its code (an array read, not a map and two lookups). */
interface DecodeEntry {
  type: MessageType;
  payload: "json" | "binary" | "packed";
  check: ((value: unknown) => object | null) | undefined;
  schema: (typeof MessageTypes)[MessageType]["schema"];
}
const DECODE_BY_CODE: (DecodeEntry | undefined)[] = new Array(256).fill(undefined);
for (const [code, type] of TYPE_BY_CODE) {
  const spec = MessageTypes[type];
  DECODE_BY_CODE[code] = { type, payload: spec.payload, check: JSON_CHECKS[type], schema: spec.schema };
}

const slab = new FrameSlab();
const encoder = new TextEncoder();

/**
 * Encodes one message into a frame. The payload is not validated: senders build it from types (a value
 * a packed layout cannot carry at all, such as a fractional coordinate, throws a `RangeError`). The frame
 * is the caller's: nothing writes to its bytes again.
 */
export function encodeMessage<T extends MessageType>(
  type: T,
  payload: PayloadInputOf<T>,
  timestampMs: number,
): Uint8Array {
  const spec = MessageTypes[type];
  if (spec.payload === "packed") {
    const payloadBytes = writePacked(type as PackedType, payload as never, slab, HEADER_BYTES);
    writeHeaderAt(slab.bytes, slab.offset, spec.code, payloadBytes, timestampMs);
    return slab.take(HEADER_BYTES + payloadBytes);
  }
  if (spec.payload === "binary") {
    const body = payload as Uint8Array;
    slab.reserve(HEADER_BYTES + body.byteLength);
    slab.bytes.set(body, slab.offset + HEADER_BYTES);
    writeHeaderAt(slab.bytes, slab.offset, spec.code, body.byteLength, timestampMs);
    return slab.take(HEADER_BYTES + body.byteLength);
  }
  const text = JSON.stringify(payload);
  const room = HEADER_BYTES + text.length * 3;
  if (room > slab.maxCarvedBytes) {
    // A large payload gets a buffer of exactly its size rather than a view of one three times as big.
    const body = encoder.encode(text);
    const frame = new Uint8Array(HEADER_BYTES + body.byteLength);
    frame.set(body, HEADER_BYTES);
    writeHeaderAt(frame, 0, spec.code, body.byteLength, timestampMs);
    return frame;
  }
  slab.reserve(room);
  const written = writeUtf8(slab.bytes, slab.offset + HEADER_BYTES, text);
  writeHeaderAt(slab.bytes, slab.offset, spec.code, written, timestampMs);
  return slab.take(HEADER_BYTES + written);
}

/**
 * What `decodeFrames` calls for each frame of a message, with the caller's `context`: the decoded message
 * or its error, and the frame's bytes.
 */
export type FrameVisitor<C> = (
  context: C,
  decoded: Result<Message, ProtocolError>,
  frame: Uint8Array,
) => void;

/**
 * Decodes a WebSocket message, which in protocol version 2 holds one or more frames back to back, calling
 * `visit` for each in order; never throws. A message over the frame limit is refused whole
 * (`frame-too-large`, with the first frame's bytes). A frame that decodes badly (`unknown-type`,
 * `bad-json`, `schema-violation`…) is reported and the next one read, since its Length says where it ends;
 * fewer than 13 bytes left (`bad-header`) or a Length running past the end (`length-mismatch`) ends the
 * message, and is reported with the bytes left.
 */
export function decodeFrames<C>(
  bytes: Uint8Array,
  limits: DecodeLimits,
  visit: FrameVisitor<C>,
  context: C,
): void {
  const total = bytes.byteLength;
  if (total > limits.maxFrameBytes) {
    const error = protocolError("frame-too-large", `${total} bytes exceed ${limits.maxFrameBytes}`);
    return visit(context, err(error), bytes);
  }
  let offset = 0;
  do {
    const left = total - offset;
    if (left < HEADER_BYTES) {
      const rest = bytes.subarray(offset);
      const error = protocolError("bad-header", `got ${left} bytes, need at least ${HEADER_BYTES}`);
      return visit(context, err(error), rest);
    }
    const end = offset + HEADER_BYTES + readU32(bytes, offset + 1);
    if (end > total) {
      const declared = end - offset - HEADER_BYTES;
      const detail = `declared ${declared} bytes, got ${left - HEADER_BYTES}`;
      return visit(context, err(protocolError("length-mismatch", detail)), bytes.subarray(offset));
    }
    const frame = offset === 0 && end === total ? bytes : bytes.subarray(offset, end);
    visit(context, decodeFrame(frame, limits), frame);
    offset = end;
  } while (offset < total);
}

/** Decodes one frame, checking the header, the limits, the type and the payload's schema. */
export function decodeFrame(
  bytes: Uint8Array,
  limits: DecodeLimits = DEFAULT_LIMITS,
): Result<Message, ProtocolError> {
  if (bytes.byteLength > limits.maxFrameBytes) {
    return err(protocolError("frame-too-large", `${bytes.byteLength} bytes exceed ${limits.maxFrameBytes}`));
  }
  if (bytes.byteLength < HEADER_BYTES) {
    return err(protocolError("bad-header", `got ${bytes.byteLength} bytes, need at least ${HEADER_BYTES}`));
  }
  const timestampMs = readU64(bytes, 5);
  if (timestampMs < 0) return err(timestampOutOfRange(bytes, 5));
  const payloadBytes = readU32(bytes, 1);
  const actualBytes = bytes.byteLength - HEADER_BYTES;
  if (payloadBytes !== actualBytes) {
    return err(protocolError("length-mismatch", `declared ${payloadBytes} bytes, got ${actualBytes}`));
  }
  const typeCode = bytes[0];
  const entry = DECODE_BY_CODE[typeCode];
  if (entry === undefined) {
    return err(protocolError("unknown-type", `0x${typeCode.toString(16).padStart(2, "0")}`));
  }
  const type = entry.type;
  if (entry.payload === "packed") {
    const payload = readPacked(type as PackedType, bytes, HEADER_BYTES, bytes.byteLength);
    return payload.ok ? ok({ type, payload: payload.value, timestampMs } as Message) : payload;
  }
  if (entry.payload === "binary") {
    return ok({ type, payload: bytes.subarray(HEADER_BYTES), timestampMs } as Message);
  }
  if (payloadBytes > limits.maxJsonBytes) {
    return err(
      protocolError(
        "frame-too-large",
        `JSON payload of ${payloadBytes} bytes exceeds ${limits.maxJsonBytes}`,
        type,
      ),
    );
  }
  let text = readUtf8(bytes, HEADER_BYTES, bytes.byteLength);
  if (text === null) return err(protocolError("bad-json", "payload is not valid UTF-8", type));
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return err(protocolError("bad-json", (e as Error).message, type));
  }
  const checked = entry.check?.(json);
  if (checked) return ok({ type, payload: checked, timestampMs } as Message);
  const parsed = entry.schema!.safeParse(json);
  if (!parsed.success) return err(schemaViolation(type, parsed.error));
  return ok({ type, payload: parsed.data, timestampMs } as Message);
}
