/**
 * Layouts of the binary payloads. STREAM_FRAME: u32 BE metadata length, metadata JSON, image bytes.
 * ARTIFACT_CHUNK: u8 transfer-id length, transfer id (ASCII), u64 BE byte offset, data.
 */
import { z } from "zod";
import { err, ok, type Result } from "../result.ts";
import { type ProtocolError, protocolError } from "./errors.ts";
import { TRANSFER_ID_PATTERN } from "./messages.ts";

/** Metadata that prefixes a STREAM_FRAME's image bytes. */
export const FrameMetaSchema = z.object({
  /** The REQUEST_FRAME this answers, absent for unsolicited frames. */
  actionId: z.string().max(128).optional(),
  format: z.enum(["jpeg", "png"]),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  originalWidth: z.number().int().positive(),
  originalHeight: z.number().int().positive(),
  capturedAtMs: z.number().int().min(0),
});
/** Metadata that prefixes a STREAM_FRAME's image bytes. */
export type FrameMeta = z.infer<typeof FrameMetaSchema>;

/** A STREAM_FRAME payload split into metadata and image. */
export interface StreamFrame {
  meta: FrameMeta;
  image: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Builds a STREAM_FRAME payload. */
export function encodeStreamFrame(meta: FrameMeta, image: Uint8Array): Uint8Array {
  const metaBytes = encoder.encode(JSON.stringify(meta));
  const out = new Uint8Array(4 + metaBytes.byteLength + image.byteLength);
  new DataView(out.buffer).setUint32(0, metaBytes.byteLength, false);
  out.set(metaBytes, 4);
  out.set(image, 4 + metaBytes.byteLength);
  return out;
}

/** Splits a STREAM_FRAME payload; never throws. */
export function decodeStreamFrame(payload: Uint8Array): Result<StreamFrame, ProtocolError> {
  if (payload.byteLength < 4) {
    return err(protocolError("schema-violation", "STREAM_FRAME shorter than 4 bytes"));
  }
  const metaBytes = new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0, false);
  if (4 + metaBytes > payload.byteLength) {
    return err(
      protocolError("schema-violation", `STREAM_FRAME metadata length ${metaBytes} overruns payload`),
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(payload.subarray(4, 4 + metaBytes)));
  } catch (e) {
    return err(protocolError("bad-json", `STREAM_FRAME metadata: ${(e as Error).message}`));
  }
  const meta = FrameMetaSchema.safeParse(json);
  if (!meta.success) {
    return err(protocolError("schema-violation", `STREAM_FRAME metadata: ${meta.error.issues[0].message}`));
  }
  return ok({ meta: meta.data, image: payload.subarray(4 + metaBytes) });
}

/** One chunk of an artifact transfer. */
export interface ArtifactChunk {
  transferId: string;
  offset: number;
  data: Uint8Array;
}

/** Builds an ARTIFACT_CHUNK payload. */
export function encodeArtifactChunk(chunk: ArtifactChunk): Uint8Array {
  const id = encoder.encode(chunk.transferId);
  const out = new Uint8Array(1 + id.byteLength + 8 + chunk.data.byteLength);
  out[0] = id.byteLength;
  out.set(id, 1);
  new DataView(out.buffer).setBigUint64(1 + id.byteLength, BigInt(chunk.offset), false);
  out.set(chunk.data, 1 + id.byteLength + 8);
  return out;
}

/** Splits an ARTIFACT_CHUNK payload; never throws. */
export function decodeArtifactChunk(payload: Uint8Array): Result<ArtifactChunk, ProtocolError> {
  if (payload.byteLength < 1) return err(protocolError("schema-violation", "ARTIFACT_CHUNK is empty"));
  const idBytes = payload[0];
  if (idBytes === 0 || 1 + idBytes + 8 > payload.byteLength) {
    return err(protocolError("schema-violation", "ARTIFACT_CHUNK transfer id overruns payload"));
  }
  let transferId: string;
  try {
    transferId = decoder.decode(payload.subarray(1, 1 + idBytes));
  } catch {
    return err(protocolError("schema-violation", "ARTIFACT_CHUNK transfer id is not UTF-8"));
  }
  if (!TRANSFER_ID_PATTERN.test(transferId)) {
    return err(protocolError("schema-violation", "ARTIFACT_CHUNK transfer id has invalid characters"));
  }
  const offset = new DataView(payload.buffer, payload.byteOffset + 1 + idBytes, 8).getBigUint64(0, false);
  if (offset > BigInt(Number.MAX_SAFE_INTEGER)) {
    return err(protocolError("schema-violation", "ARTIFACT_CHUNK offset out of range"));
  }
  return ok({ transferId, offset: Number(offset), data: payload.subarray(1 + idBytes + 8) });
}
