/**
 * The 13-byte frame header: type (1 byte), payload length (4 bytes, unsigned big-endian) and the
 * sender's timestamp (8 bytes, unsigned big-endian Unix ms). Bytes are written and read one by one: a
 * `DataView` and a `BigInt` for the timestamp cost more than the rest of a small frame's header.
 */
import { err, ok, type Result } from "../result.ts";
import { type ProtocolError, protocolError } from "./errors.ts";

/** Bytes in a frame header. */
export const HEADER_BYTES = 13;

/** A decoded frame header. */
export interface FrameHeader {
  typeCode: number;
  payloadBytes: number;
  timestampMs: number;
}

const TWO_32 = 0x1_0000_0000;
/** The high 32 bits of 2^53 − 1: a larger high word puts a u64 out of a JS number's safe range. */
const MAX_SAFE_HIGH = 0x1f_ffff;

/** Writes `value` (an integer in 0..2^53−1) as 8 bytes, big-endian, at `offset`. */
export function writeU64(target: Uint8Array, offset: number, value: number): void {
  const high = Math.floor(value / TWO_32);
  const low = value >>> 0;
  target[offset] = high >>> 24;
  target[offset + 1] = high >>> 16;
  target[offset + 2] = high >>> 8;
  target[offset + 3] = high;
  target[offset + 4] = low >>> 24;
  target[offset + 5] = low >>> 16;
  target[offset + 6] = low >>> 8;
  target[offset + 7] = low;
}

/** Reads 4 bytes at `offset` as an unsigned big-endian integer. */
export function readU32(bytes: Uint8Array, offset: number): number {
  return bytes[offset] * 0x100_0000 +
    ((bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]);
}

/** Reads 8 bytes at `offset` as an unsigned big-endian integer; -1 when it exceeds 2^53 − 1. */
export function readU64(bytes: Uint8Array, offset: number): number {
  const high = readU32(bytes, offset);
  return high > MAX_SAFE_HIGH ? -1 : high * TWO_32 + readU32(bytes, offset + 4);
}

/** Writes a header into the first 13 bytes of `target`. */
export function writeHeader(target: Uint8Array, header: FrameHeader): void {
  writeHeaderAt(target, 0, header.typeCode, header.payloadBytes, header.timestampMs);
}

/** Writes a header at `offset` of `target` (the encoder's path: no header object). */
export function writeHeaderAt(
  target: Uint8Array,
  offset: number,
  typeCode: number,
  payloadBytes: number,
  timestampMs: number,
): void {
  target[offset] = typeCode;
  target[offset + 1] = payloadBytes >>> 24;
  target[offset + 2] = payloadBytes >>> 16;
  target[offset + 3] = payloadBytes >>> 8;
  target[offset + 4] = payloadBytes;
  writeU64(target, offset + 5, timestampMs);
}

/** Reads the header at the start of `bytes`; fails when fewer than 13 bytes are present. */
export function readHeader(bytes: Uint8Array): Result<FrameHeader, ProtocolError> {
  if (bytes.byteLength < HEADER_BYTES) {
    return err(protocolError("bad-header", `got ${bytes.byteLength} bytes, need at least ${HEADER_BYTES}`));
  }
  const timestampMs = readU64(bytes, 5);
  if (timestampMs < 0) return err(timestampOutOfRange(bytes, 5));
  return ok({ typeCode: bytes[0], payloadBytes: readU32(bytes, 1), timestampMs });
}

/** The error for a u64 timestamp above 2^53 − 1 at `offset` (the slow path may use BigInt). */
export function timestampOutOfRange(bytes: Uint8Array, offset: number): ProtocolError {
  let value = 0n;
  for (let i = offset; i < offset + 8; i++) value = (value << 8n) | BigInt(bytes[i]);
  return protocolError("bad-header", `timestamp ${value} is out of range`);
}
