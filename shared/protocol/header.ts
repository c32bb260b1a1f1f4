/**
 * The 13-byte frame header: type (1 byte), payload length (4 bytes, unsigned big-endian) and the
 * sender's timestamp (8 bytes, unsigned big-endian Unix ms).
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

/** Writes a header into the first 13 bytes of `target`. */
export function writeHeader(target: Uint8Array, header: FrameHeader): void {
  const view = new DataView(target.buffer, target.byteOffset, HEADER_BYTES);
  view.setUint8(0, header.typeCode);
  view.setUint32(1, header.payloadBytes, false);
  view.setBigUint64(5, BigInt(header.timestampMs), false);
}

/** Reads the header at the start of `bytes`; fails when fewer than 13 bytes are present. */
export function readHeader(bytes: Uint8Array): Result<FrameHeader, ProtocolError> {
  if (bytes.byteLength < HEADER_BYTES) {
    return err(protocolError("bad-header", `got ${bytes.byteLength} bytes, need at least ${HEADER_BYTES}`));
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  const timestamp = view.getBigUint64(5, false);
  if (timestamp > BigInt(Number.MAX_SAFE_INTEGER)) {
    return err(protocolError("bad-header", `timestamp ${timestamp} is out of range`));
  }
  return ok({
    typeCode: view.getUint8(0),
    payloadBytes: view.getUint32(1, false),
    timestampMs: Number(timestamp),
  });
}
