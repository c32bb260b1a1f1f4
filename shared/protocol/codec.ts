/**
 * Encodes messages to frames and decodes frames to messages. Decoding never throws: hostile bytes
 * come back as a typed error. Runs unchanged in Deno and the browser.
 */
import { err, ok, type Result } from "../result.ts";
import { type ProtocolError, protocolError } from "./errors.ts";
import { HEADER_BYTES, readHeader, writeHeader } from "./header.ts";
import {
  type Message,
  type MessageType,
  MessageTypes,
  type PayloadInputOf,
  TYPE_BY_CODE,
} from "./messages.ts";

/** Size limits the decoder enforces. */
export interface DecodeLimits {
  /** Largest whole frame (header included), in bytes. */
  maxFrameBytes: number;
  /** Largest JSON payload, in bytes. */
  maxJsonBytes: number;
}

/** Defaults: 16 MiB frames, 1 MiB JSON payloads. */
export const DEFAULT_LIMITS: DecodeLimits = { maxFrameBytes: 16 * 1024 * 1024, maxJsonBytes: 1024 * 1024 };

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Encodes one message into a frame. The payload is not validated: senders build it from types. */
export function encodeMessage<T extends MessageType>(
  type: T,
  payload: PayloadInputOf<T>,
  timestampMs: number,
): Uint8Array {
  const spec = MessageTypes[type];
  if (spec.payload === "binary") {
    const body = payload as Uint8Array;
    const frame = new Uint8Array(HEADER_BYTES + body.byteLength);
    writeHeader(frame, { typeCode: spec.code, payloadBytes: body.byteLength, timestampMs });
    frame.set(body, HEADER_BYTES);
    return frame;
  }
  // Encode the JSON straight into the frame (UTF-8 needs at most 3 bytes per UTF-16 unit), then trim.
  const text = JSON.stringify(payload);
  const buffer = new Uint8Array(HEADER_BYTES + text.length * 3);
  const { written } = encoder.encodeInto(text, buffer.subarray(HEADER_BYTES));
  writeHeader(buffer, { typeCode: spec.code, payloadBytes: written, timestampMs });
  return buffer.subarray(0, HEADER_BYTES + written);
}

/** Decodes one frame, checking the header, the limits, the type and the payload's schema. */
export function decodeFrame(
  bytes: Uint8Array,
  limits: DecodeLimits = DEFAULT_LIMITS,
): Result<Message, ProtocolError> {
  if (bytes.byteLength > limits.maxFrameBytes) {
    return err(protocolError("frame-too-large", `${bytes.byteLength} bytes exceed ${limits.maxFrameBytes}`));
  }
  const header = readHeader(bytes);
  if (!header.ok) return header;
  const { typeCode, payloadBytes, timestampMs } = header.value;
  const actualBytes = bytes.byteLength - HEADER_BYTES;
  if (payloadBytes !== actualBytes) {
    return err(protocolError("length-mismatch", `declared ${payloadBytes} bytes, got ${actualBytes}`));
  }
  const type = TYPE_BY_CODE.get(typeCode);
  if (type === undefined) {
    return err(protocolError("unknown-type", `0x${typeCode.toString(16).padStart(2, "0")}`));
  }
  const spec = MessageTypes[type];
  const body = bytes.subarray(HEADER_BYTES);
  if (spec.schema === null) {
    return ok({ type, payload: body, timestampMs } as Message);
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
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(body));
  } catch (e) {
    return err(protocolError("bad-json", (e as Error).message, type));
  }
  const parsed = spec.schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    return err(protocolError("schema-violation", `${type} ${where}${issue.message}`, type));
  }
  return ok({ type, payload: parsed.data, timestampMs } as Message);
}
