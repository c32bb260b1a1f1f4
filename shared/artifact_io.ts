/**
 * The one artifact I/O pair, used by the server and the Deno device alike: a sender that streams a file
 * as ARTIFACT_BEGIN / CHUNK… / END with backpressure, and a receiver that checks each chunk against the
 * reassembly rules, hashes and writes in order, and verifies size and SHA-256 at the end. Each side keeps
 * only its policy (who may move what, where files go, retries). Files are reached through two structural
 * interfaces that `Deno.FsFile` meets, so this module names no runtime API; it hashes with `node:crypto`,
 * so it runs in Deno (server and device client) but not in the browser, which moves no artifacts.
 */
import { createHash, type Hash } from "node:crypto";
import { CHUNK_BYTES, ChunkAssembly, SENDER_HIGH_WATER_BYTES } from "./artifacts.ts";
import { sleep, type Timers } from "./clock.ts";
import {
  encodeArtifactChunk,
  type MessageType,
  type PayloadInputOf,
  type ProtocolError,
  protocolError,
} from "./protocol/mod.ts";

/** A file read in chunks (`Deno.FsFile` is one). */
export interface ReadableFile {
  read(buffer: Uint8Array): Promise<number | null>;
  close(): void;
}

/** A file written in chunks (`Deno.FsFile` is one). */
export interface WritableFile {
  write(data: Uint8Array): Promise<number>;
  close(): void;
}

/** Writes all of `data`, however many calls the file needs. */
export async function writeAll(file: WritableFile, data: Uint8Array): Promise<void> {
  let written = 0;
  while (written < data.byteLength) written += await file.write(data.subarray(written));
}

/** Reads until `buffer` is full or the file ends; returns the bytes read. */
export async function readFull(file: ReadableFile, buffer: Uint8Array): Promise<number> {
  let filled = 0;
  while (filled < buffer.byteLength) {
    const n = await file.read(buffer.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  return filled;
}

/** Size and SHA-256 (lowercase hex) of everything `file` holds from where it stands. */
export async function digestOf(file: ReadableFile): Promise<{ size: number; sha256: string }> {
  const hash = createHash("sha256");
  const buffer = new Uint8Array(CHUNK_BYTES);
  let size = 0;
  for (let n = await file.read(buffer); n !== null; n = await file.read(buffer)) {
    hash.update(buffer.subarray(0, n));
    size += n;
  }
  return { size, sha256: hash.digest("hex") };
}

/** The slice of a connection a sender writes to. */
export interface ChunkLink {
  /** Sends one message; false when it could not be sent (the peer is gone). */
  send<T extends MessageType>(type: T, payload: Omit<PayloadInputOf<T>, "seq">): boolean | void;
  /** Bytes written but not yet on the network. */
  bufferedAmount(): number;
}

/** What a sender announces in ARTIFACT_BEGIN. */
export type ArtifactBeginFields = Omit<PayloadInputOf<"ARTIFACT_BEGIN">, "seq">;

/** How a send ended. */
export type SendOutcome = "sent" | "stopped" | "link-lost" | "stalled" | "short-file";

/** Settings of one send. */
export interface SendOptions {
  link: ChunkLink;
  timers: Timers;
  file: ReadableFile;
  begin: ArtifactBeginFields;
  /** Polled between chunks: true once the transfer was refused or abandoned, so sending stops. */
  stopped(): boolean;
  /** Wait while the link holds more than this many bytes (default `SENDER_HIGH_WATER_BYTES`). */
  highWaterBytes?: number;
  /** Give up after the link stayed backed up this long (default 60 s). */
  stallTimeoutMs?: number;
}

/**
 * Sends `begin`, then the file's bytes as chunks (waiting while the link is backed up), then END. The
 * file's length must equal `begin.size`; the caller closes the file.
 */
export async function sendArtifact(options: SendOptions): Promise<SendOutcome> {
  const { link, timers, file, begin } = options;
  const highWater = options.highWaterBytes ?? SENDER_HIGH_WATER_BYTES;
  const stallMs = options.stallTimeoutMs ?? 60_000;
  if (link.send("ARTIFACT_BEGIN", begin) === false) return "link-lost";
  const buffer = new Uint8Array(CHUNK_BYTES);
  let offset = 0;
  while (offset < begin.size) {
    const length = await readFull(file, buffer.subarray(0, Math.min(CHUNK_BYTES, begin.size - offset)));
    if (length === 0) return "short-file";
    const waitStartedMs = timers.now();
    while (link.bufferedAmount() > highWater) {
      if (options.stopped()) return "stopped";
      if (timers.now() - waitStartedMs > stallMs) return "stalled";
      await sleep(timers, 5);
    }
    if (options.stopped()) return "stopped";
    const chunk = encodeArtifactChunk({
      transferId: begin.transferId,
      offset,
      data: buffer.subarray(0, length),
    });
    if (link.send("ARTIFACT_CHUNK", chunk) === false) return "link-lost";
    offset += length;
  }
  if (options.stopped()) return "stopped";
  return link.send("ARTIFACT_END", { transferId: begin.transferId }) === false ? "link-lost" : "sent";
}

/** What a receiver knows when a transfer begins. */
export interface ReceiveStart {
  transferId: string;
  size: number;
  sha256: string;
  /** Largest size accepted. */
  maxBytes: number;
}

/**
 * One incoming transfer: chunks are checked as they arrive (contiguous, never past the declared size),
 * hashed, and written to the file in order; `end()` waits for the writes and verifies the whole.
 */
export class ArtifactReceiver {
  readonly #assembly: ChunkAssembly;
  readonly #hash: Hash = createHash("sha256");
  readonly #file: Promise<WritableFile>;
  #writes: Promise<void>;
  #writeError: ProtocolError | null = null;
  #closed = false;

  private constructor(assembly: ChunkAssembly, open: () => Promise<WritableFile>) {
    this.#assembly = assembly;
    this.#file = open();
    this.#writes = this.#file.then(() => {}, (error) => this.#failWrite(error));
  }

  /** Starts a transfer, refusing a declared size past `maxBytes`; `open` creates the file to write. */
  static begin(
    start: ReceiveStart,
    open: () => Promise<WritableFile>,
  ): { ok: true; value: ArtifactReceiver } | { ok: false; error: ProtocolError } {
    const assembly = ChunkAssembly.begin(start);
    if (!assembly.ok) return assembly;
    return { ok: true, value: new ArtifactReceiver(assembly.value, open) };
  }

  /** The transfer's id. */
  get transferId(): string {
    return this.#assembly.start.transferId;
  }

  /** Bytes accepted so far. */
  get receivedBytes(): number {
    return this.#assembly.receivedBytes;
  }

  /** Takes the chunk at `offset`, or says why not (the transfer is then refused). */
  chunk(offset: number, data: Uint8Array): ProtocolError | null {
    if (this.#writeError !== null) return this.#writeError;
    const accepted = this.#assembly.accept(offset, data.byteLength);
    if (!accepted.ok) return accepted.error;
    this.#hash.update(data);
    const copy = data.slice();
    this.#writes = this.#writes.then(async () => {
      if (this.#writeError !== null || this.#closed) return;
      try {
        await writeAll(await this.#file, copy);
      } catch (error) {
        this.#failWrite(error);
      }
    });
    return null;
  }

  /** Every chunk was sent: waits for the writes, closes the file, checks the size and the digest. */
  async end(): Promise<ProtocolError | null> {
    await this.#writes;
    await this.#close();
    if (this.#writeError !== null) return this.#writeError;
    const finished = this.#assembly.finish(this.#hash.digest("hex"));
    return finished.ok ? null : finished.error;
  }

  /** Abandons the transfer: waits for the writes in progress and closes the file (the caller deletes it). */
  async abort(): Promise<void> {
    this.#closed = true;
    await this.#writes;
    await this.#close();
  }

  async #close(): Promise<void> {
    try {
      (await this.#file).close();
    } catch {
      // Never opened, or already closed.
    }
  }

  #failWrite(error: unknown): void {
    const detail = `cannot write: ${(error as Error)?.message ?? error}`;
    this.#writeError ??= protocolError("internal", detail, this.transferId);
  }
}
