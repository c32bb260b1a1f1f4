/**
 * Artifact transfers over the control path, server side. Uploads: ARTIFACT_BEGIN, contiguous
 * ARTIFACT_CHUNKs, ARTIFACT_END; the server streams them to a partial file while hashing, verifies size
 * and SHA-256, stores the file and echoes ARTIFACT_END ("stored"), or answers ERROR with
 * `ref = transferId` ("refused") and deletes the partial file. Downloads: ARTIFACT_REQUEST is answered
 * by ARTIFACT_BEGIN (size, sha256), the chunks and ARTIFACT_END, or by ERROR with `ref = transferId`.
 * The scheduler's `authorize` decides which device may move which artifact.
 */
import { createHash, type Hash } from "node:crypto";
import {
  CHUNK_BYTES,
  ChunkAssembly,
  DEFAULT_MAX_ARTIFACT_BYTES,
  SENDER_HIGH_WATER_BYTES,
  validateSegmentName,
} from "../../shared/artifacts.ts";
import { type Clock, systemClock } from "../../shared/clock.ts";
import {
  decodeArtifactChunk,
  encodeArtifactChunk,
  type ErrorCode,
  type Message,
  type MessageOf,
  type ProtocolError,
  protocolError,
} from "../../shared/protocol/mod.ts";
import type { Gateway } from "../gateway/types.ts";
import type { ArtifactMeta, ArtifactStore, PartialFile } from "./store.ts";

/** The scheduler's answer to "may this device move this artifact for this task?". */
export interface ArtifactAuthorizer {
  /** An output the device's assigned task declares: where it belongs, or the refusal code. */
  upload(
    deviceId: string,
    taskId: string,
    artifact: string,
  ): { dagId: string; nodeId: string } | ErrorCode | Promise<{ dagId: string; nodeId: string } | ErrorCode>;
  /** An input the device's assigned task takes: which DAG holds it, or the refusal code. */
  download(
    deviceId: string,
    taskId: string,
    artifact: string,
  ): { dagId: string } | ErrorCode | Promise<{ dagId: string } | ErrorCode>;
}

/** Dependencies and settings of the transfer manager. */
export interface ArtifactTransfersOptions {
  gateway: Gateway;
  store: ArtifactStore;
  authorize: ArtifactAuthorizer;
  /** Largest artifact accepted (default 256 MiB). */
  maxArtifactBytes?: number;
  /** Called once an upload is verified and stored. */
  onStored?(dagId: string, artifact: string, meta: ArtifactMeta): void;
  /** Unsent bytes in the device's socket, for download backpressure; without it chunks are paced only. */
  bufferedBytes?(deviceId: string): number;
  /** An upload idle this long is dropped, and a download stalled this long is abandoned (default 60 s). */
  idleTimeoutMs?: number;
  clock?: Clock;
}

interface Upload {
  kind: "upload";
  key: string;
  deviceId: string;
  transferId: string;
  dagId: string;
  nodeId: string;
  artifact: string;
  assembly: ChunkAssembly | null;
  partial: PartialFile | null;
  hash: Hash;
  chain: Promise<void>;
  failed: boolean;
  lastActiveMs: number;
}

interface Download {
  kind: "download";
  key: string;
  deviceId: string;
  transferId: string;
  aborted: boolean;
  done: Promise<void>;
}

const REMEMBERED_REFUSALS = 4096;

/** Runs every artifact transfer between devices and the store. */
export class ArtifactTransfers {
  readonly #options: ArtifactTransfersOptions;
  readonly #clock: Clock;
  readonly #maxBytes: number;
  readonly #idleMs: number;
  readonly #active = new Map<string, Upload | Download>();
  /** Transfers already refused: their remaining chunks and END are dropped without another ERROR. */
  readonly #refused = new Set<string>();
  readonly #unsubscribe: () => void;
  readonly #sweeper: ReturnType<typeof setInterval>;
  #closed = false;

  constructor(options: ArtifactTransfersOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#maxBytes = options.maxArtifactBytes ?? DEFAULT_MAX_ARTIFACT_BYTES;
    this.#idleMs = options.idleTimeoutMs ?? 60_000;
    this.#unsubscribe = options.gateway.subscribe({
      message: (deviceId, message) => this.#receive(deviceId, message),
      deviceOffline: (device) => this.#dropDevice(device.id),
    });
    this.#sweeper = setInterval(() => this.#sweep(), Math.max(10, Math.min(5000, this.#idleMs / 4)));
  }

  /** Transfers in progress (uploads and downloads). */
  get activeCount(): number {
    return this.#active.size;
  }

  /** Stops listening, abandons every transfer and deletes their partial files. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#unsubscribe();
    clearInterval(this.#sweeper);
    const pending = [...this.#active.values()].map((transfer) => this.#abandon(transfer));
    await Promise.all(pending);
  }

  #receive(deviceId: string, message: Message): void {
    switch (message.type) {
      case "ARTIFACT_BEGIN":
        return this.#beginUpload(deviceId, message.payload);
      case "ARTIFACT_CHUNK":
        return this.#chunk(deviceId, message.payload);
      case "ARTIFACT_END":
        return this.#endUpload(deviceId, message.payload.transferId);
      case "ARTIFACT_REQUEST":
        return this.#download(deviceId, message.payload);
      case "ERROR": {
        // The device gave up on a transfer: stop sending, or drop the partial upload.
        const transfer = this.#active.get(keyOf(deviceId, message.payload.ref ?? ""));
        if (transfer !== undefined) void this.#abandon(transfer);
        return;
      }
    }
  }

  #beginUpload(deviceId: string, begin: MessageOf<"ARTIFACT_BEGIN">["payload"]): void {
    const key = keyOf(deviceId, begin.transferId);
    if (this.#active.has(key) || this.#refused.has(key)) {
      return this.#refuse(
        deviceId,
        protocolError("schema-violation", "transfer id in use", begin.transferId),
      );
    }
    const upload: Upload = {
      kind: "upload",
      key,
      deviceId,
      transferId: begin.transferId,
      dagId: "",
      nodeId: "",
      artifact: begin.artifact,
      assembly: null,
      partial: null,
      hash: createHash("sha256"),
      chain: Promise.resolve(),
      failed: false,
      lastActiveMs: this.#clock.now(),
    };
    this.#active.set(key, upload);
    this.#step(upload, async () => {
      const name = validateSegmentName(begin.artifact);
      if (!name.ok) return this.#fail(upload, { ...name.error, ref: begin.transferId });
      const allowed = await this.#options.authorize.upload(deviceId, begin.taskId, begin.artifact);
      if (typeof allowed === "string") return this.#fail(upload, refusal(allowed, begin, "upload"));
      const assembly = ChunkAssembly.begin({ ...begin, maxBytes: this.#maxBytes });
      if (!assembly.ok) return this.#fail(upload, assembly.error);
      upload.dagId = allowed.dagId;
      upload.nodeId = allowed.nodeId;
      upload.assembly = assembly.value;
      upload.partial = await this.#options.store.createPartial();
    });
  }

  #chunk(deviceId: string, payload: Uint8Array): void {
    const decoded = decodeArtifactChunk(payload);
    if (!decoded.ok) return this.#refuse(deviceId, { ...decoded.error, ref: "ARTIFACT_CHUNK" });
    const { transferId, offset, data } = decoded.value;
    const upload = this.#uploadFor(deviceId, transferId, "ARTIFACT_CHUNK");
    if (upload === null) return;
    upload.lastActiveMs = this.#clock.now();
    this.#step(upload, async () => {
      const accepted = upload.assembly!.accept(offset, data.byteLength);
      if (!accepted.ok) return this.#fail(upload, accepted.error);
      upload.hash.update(data);
      await writeAll(upload.partial!.file, data);
    });
  }

  #endUpload(deviceId: string, transferId: string): void {
    const upload = this.#uploadFor(deviceId, transferId, "ARTIFACT_END");
    if (upload === null) return;
    upload.lastActiveMs = this.#clock.now();
    this.#step(upload, async () => {
      const finished = upload.assembly!.finish(upload.hash.digest("hex"));
      if (!finished.ok) return this.#fail(upload, finished.error);
      const { path, file } = upload.partial!;
      file.close();
      upload.partial = null;
      const { size, sha256 } = upload.assembly!.start;
      const meta = await this.#options.store.commit(path, upload.dagId, upload.artifact, {
        size,
        sha256,
        producedBy: { nodeId: upload.nodeId, deviceId },
      }).catch(async (error) => {
        await this.#options.store.discard(path);
        throw error;
      });
      this.#active.delete(upload.key);
      this.#options.gateway.send(deviceId, "ARTIFACT_END", { transferId });
      this.#options.onStored?.(upload.dagId, upload.artifact, meta);
    });
  }

  #uploadFor(deviceId: string, transferId: string, type: string): Upload | null {
    const key = keyOf(deviceId, transferId);
    const transfer = this.#active.get(key);
    if (transfer?.kind === "upload") return transfer;
    if (transfer === undefined && !this.#refused.has(key)) {
      this.#remember(key);
      this.#refuse(deviceId, protocolError("out-of-order", `${type} for unknown transfer`, transferId));
    }
    return null;
  }

  /** Runs upload work in order; anything thrown fails the upload as `internal`. */
  #step(upload: Upload, work: () => Promise<void>): void {
    upload.chain = upload.chain
      .then(() => (upload.failed ? undefined : work()))
      .catch((error) => {
        const detail = `upload failed: ${(error as Error).message ?? error}`;
        this.#fail(upload, protocolError("internal", detail, upload.transferId));
      });
  }

  /** Refuses an upload: ERROR to the device (unless `error` is null), partial file deleted. */
  #fail(upload: Upload, error: ProtocolError | null): void {
    if (upload.failed) return;
    upload.failed = true;
    this.#active.delete(upload.key);
    this.#remember(upload.key);
    if (error !== null) this.#refuse(upload.deviceId, error);
    upload.chain = upload.chain.then(async () => {
      const partial = upload.partial;
      upload.partial = null;
      if (partial === null) return;
      try {
        partial.file.close();
      } catch {
        // Already closed by the END step.
      }
      await this.#options.store.discard(partial.path);
    });
  }

  #download(deviceId: string, request: MessageOf<"ARTIFACT_REQUEST">["payload"]): void {
    const key = keyOf(deviceId, request.transferId);
    if (this.#active.has(key) || this.#refused.has(key)) {
      return this.#refuse(
        deviceId,
        protocolError("schema-violation", "transfer id in use", request.transferId),
      );
    }
    const download: Download = {
      kind: "download",
      key,
      deviceId,
      transferId: request.transferId,
      aborted: false,
      done: Promise.resolve(),
    };
    this.#active.set(key, download);
    download.done = this.#send(download, request).catch((error) => {
      const detail = `download failed: ${(error as Error).message ?? error}`;
      if (!download.aborted) this.#refuse(deviceId, protocolError("internal", detail, request.transferId));
    }).finally(() => {
      if (this.#active.get(key) === download) this.#active.delete(key);
    });
  }

  async #send(download: Download, request: MessageOf<"ARTIFACT_REQUEST">["payload"]): Promise<void> {
    const { deviceId, transferId } = download;
    const { gateway, store } = this.#options;
    const name = validateSegmentName(request.artifact);
    if (!name.ok) return this.#refuse(deviceId, { ...name.error, ref: transferId });
    const allowed = await this.#options.authorize.download(deviceId, request.taskId, request.artifact);
    if (typeof allowed === "string") return this.#refuse(deviceId, refusal(allowed, request, "download"));
    const opened = await store.openFile(allowed.dagId, request.artifact);
    if (opened === null) {
      const detail = `artifact ${request.artifact} of DAG ${allowed.dagId} is not stored`;
      return this.#refuse(deviceId, protocolError("internal", detail, transferId));
    }
    const { meta, file } = opened;
    try {
      const { size, sha256 } = meta;
      const begin = { transferId, taskId: request.taskId, artifact: request.artifact, size, sha256 };
      if (!gateway.send(deviceId, "ARTIFACT_BEGIN", begin)) return;
      const buffer = new Uint8Array(CHUNK_BYTES);
      let offset = 0;
      while (offset < meta.size) {
        const length = await readFull(file, buffer);
        if (length === 0) break;
        if (!(await this.#drained(download))) return;
        const chunk = encodeArtifactChunk({ transferId, offset, data: buffer.subarray(0, length) });
        if (!gateway.send(deviceId, "ARTIFACT_CHUNK", chunk)) return;
        offset += length;
      }
      if (offset !== meta.size) {
        throw new Error(`stored file has ${offset} bytes, metadata says ${meta.size}`);
      }
      gateway.send(deviceId, "ARTIFACT_END", { transferId });
    } finally {
      file.close();
    }
  }

  /** Waits while the device's socket is backed up; false if the download was abandoned meanwhile. */
  async #drained(download: Download): Promise<boolean> {
    const startedMs = this.#clock.now();
    const buffered = this.#options.bufferedBytes;
    do {
      await delay(buffered ? 5 : 0);
      if (download.aborted || this.#closed) return false;
      if (this.#clock.now() - startedMs > this.#idleMs) {
        download.aborted = true;
        return false;
      }
    } while (buffered !== undefined && buffered(download.deviceId) > SENDER_HIGH_WATER_BYTES);
    return true;
  }

  #abandon(transfer: Upload | Download): Promise<void> {
    if (transfer.kind === "download") {
      transfer.aborted = true;
      this.#active.delete(transfer.key);
      return transfer.done;
    }
    this.#fail(transfer, null);
    return transfer.chain;
  }

  #dropDevice(deviceId: string): void {
    for (const transfer of [...this.#active.values()]) {
      if (transfer.deviceId === deviceId) void this.#abandon(transfer);
    }
  }

  #sweep(): void {
    const now = this.#clock.now();
    for (const transfer of [...this.#active.values()]) {
      if (transfer.kind === "upload" && now - transfer.lastActiveMs > this.#idleMs) {
        const detail = `no chunk for ${now - transfer.lastActiveMs} ms`;
        this.#fail(transfer, protocolError("timeout", detail, transfer.transferId));
      }
    }
  }

  #refuse(deviceId: string, error: ProtocolError): void {
    if (this.#closed) return;
    this.#options.gateway.send(deviceId, "ERROR", error);
  }

  #remember(key: string): void {
    this.#refused.add(key);
    if (this.#refused.size > REMEMBERED_REFUSALS) this.#refused.delete(this.#refused.values().next().value!);
  }
}

function keyOf(deviceId: string, transferId: string): string {
  return `${deviceId}\n${transferId}`;
}

function refusal(
  code: ErrorCode,
  request: { transferId: string; taskId: string; artifact: string },
  what: "upload" | "download",
): ProtocolError {
  const detail = `task ${request.taskId} may not ${what} artifact ${request.artifact}`;
  return protocolError(code, detail, request.transferId);
}

async function writeAll(file: Deno.FsFile, data: Uint8Array): Promise<void> {
  let written = 0;
  while (written < data.byteLength) written += await file.write(data.subarray(written));
}

/** Reads until `buffer` is full or the file ends; returns the bytes read. */
async function readFull(file: Deno.FsFile, buffer: Uint8Array): Promise<number> {
  let filled = 0;
  while (filled < buffer.byteLength) {
    const n = await file.read(buffer.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  return filled;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
