/**
 * Artifact transfer rules shared by the server and the device: chunk size and limits, the check that a
 * relative file path stays inside a files directory, the check that a name is safe as one path segment,
 * and the reassembly state machine that a receiver runs over ARTIFACT_BEGIN / CHUNK / END. Pure: no I/O,
 * no hashing (callers hash with node:crypto as bytes stream to disk).
 */
import { err, ok, type Result } from "./result.ts";
import { type ErrorCode, type ProtocolError, protocolError } from "./protocol/errors.ts";

/** Bytes of file data in one ARTIFACT_CHUNK (256 KiB). */
export const CHUNK_BYTES = 256 * 1024;
/** Default largest artifact a server accepts (256 MiB). */
export const DEFAULT_MAX_ARTIFACT_BYTES = 256 * 1024 * 1024;
/** A sender waits while its socket holds more than this many unsent bytes (4 MiB). */
export const SENDER_HIGH_WATER_BYTES = 4 * 1024 * 1024;
/** Whole transfers tried before giving up; each try uses a new transfer id. */
export const MAX_TRANSFER_ATTEMPTS = 3;
/**
 * Largest ARTIFACT_CHUNK frame: 13-byte header, 1-byte id length, a 64-byte id, 8-byte offset and a
 * full chunk. A gateway's `maxFrameBytes` must be at least this.
 */
export const MAX_CHUNK_FRAME_BYTES = 13 + 1 + 64 + 8 + CHUNK_BYTES;

/** Error codes after which trying the same transfer again cannot help. */
const FINAL_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "not-your-work",
  "artifact-too-large",
  "path-escape",
  "unknown-task",
]);

/** Whether a transfer that failed with `code` is worth retrying with a new transfer id. */
export function isRetryableTransferError(code: ErrorCode): boolean {
  return !FINAL_CODES.has(code);
}

/**
 * Checks a path relative to a files directory and returns its segments. Refuses empty paths, absolute
 * paths (`/x`, `C:\x`, `C:x`), backslashes, NUL, `..` segments and empty or `.` segments.
 */
export function validateRelativePath(path: string): Result<string[], ProtocolError> {
  const refuse = (why: string) => err(protocolError("path-escape", `${JSON.stringify(path)} ${why}`));
  if (path.length === 0) return refuse("is empty");
  if (path.includes("\0")) return refuse("contains NUL");
  if (path.includes("\\")) return refuse("contains a backslash");
  if (path.startsWith("/")) return refuse("is absolute");
  if (/^[A-Za-z]:/.test(path)) return refuse("starts with a drive letter");
  const segments = path.split("/");
  for (const segment of segments) {
    if (segment === "..") return refuse("contains a '..' segment");
    if (segment === "" || segment === ".") return refuse("contains an empty or '.' segment");
  }
  return ok(segments);
}

/**
 * The one name rule for artifacts and the DAG ids they are stored under, used by DAG validation and by
 * the artifact store alike: 1-64 letters, digits, `.`, `_` or `-`, not starting with `.`. The leading-dot
 * ban keeps out `.` and `..` and the store's own entries (`.meta/` beside a DAG's artifacts, `.partial/`
 * beside the DAGs); nothing else the store writes can collide with such a name.
 */
export const SEGMENT_NAME_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/;

/** Why `name` breaks the name rule (`SEGMENT_NAME_PATTERN`), or null when it keeps it. */
export function segmentNameProblem(name: string): string | null {
  if (SEGMENT_NAME_PATTERN.test(name)) return null;
  const shown = JSON.stringify(name.length > 70 ? `${name.slice(0, 67)}...` : name);
  return `name ${shown} must be 1-64 letters, digits, '.', '_' or '-', not starting with '.'`;
}

/** Checks a DAG id or artifact name against the name rule (`SEGMENT_NAME_PATTERN`). */
export function validateSegmentName(name: string): Result<string, ProtocolError> {
  const problem = segmentNameProblem(name);
  return problem === null ? ok(name) : err(protocolError("schema-violation", problem));
}

/** What a receiver knows when a transfer begins. */
export interface AssemblyStart {
  transferId: string;
  /** Declared total size in bytes. */
  size: number;
  /** Declared SHA-256, lowercase hex. */
  sha256: string;
  /** Largest size the receiver accepts. */
  maxBytes: number;
}

/**
 * Reassembly of one incoming transfer: chunk offsets must be contiguous from 0, the total must reach the
 * declared size exactly and never pass it, and the final digest must equal the declared one.
 */
export class ChunkAssembly {
  #nextOffset = 0;
  #done = false;

  private constructor(readonly start: AssemblyStart) {}

  /** Starts an assembly, refusing a declared size above the limit. */
  static begin(start: AssemblyStart): Result<ChunkAssembly, ProtocolError> {
    if (start.size > start.maxBytes) {
      const detail = `${start.size} bytes declared, limit is ${start.maxBytes}`;
      return err(protocolError("artifact-too-large", detail, start.transferId));
    }
    return ok(new ChunkAssembly(start));
  }

  /** Bytes accepted so far, which is also the offset the next chunk must carry. */
  get receivedBytes(): number {
    return this.#nextOffset;
  }

  /** Accepts the chunk at `offset` of `byteLength` bytes, or says why not. */
  accept(offset: number, byteLength: number): Result<void, ProtocolError> {
    const { transferId, size } = this.start;
    if (this.#done) return err(protocolError("out-of-order", "chunk after ARTIFACT_END", transferId));
    if (offset !== this.#nextOffset) {
      const detail = `chunk at offset ${offset}, expected ${this.#nextOffset}`;
      return err(protocolError("schema-violation", detail, transferId));
    }
    if (offset + byteLength > size) {
      const detail = `chunk ends at ${offset + byteLength}, past the declared size ${size}`;
      return err(protocolError("schema-violation", detail, transferId));
    }
    this.#nextOffset += byteLength;
    return ok(undefined);
  }

  /** Ends the assembly: every declared byte must have arrived and `sha256` must equal the declared digest. */
  finish(sha256: string): Result<void, ProtocolError> {
    const { transferId, size } = this.start;
    if (this.#done) return err(protocolError("out-of-order", "second ARTIFACT_END", transferId));
    this.#done = true;
    if (this.#nextOffset !== size) {
      const detail = `ended at ${this.#nextOffset} of ${size} declared bytes`;
      return err(protocolError("schema-violation", detail, transferId));
    }
    if (sha256 !== this.start.sha256) {
      const detail = `received ${sha256}, declared ${this.start.sha256}`;
      return err(protocolError("checksum-mismatch", detail, transferId));
    }
    return ok(undefined);
  }
}
