/**
 * Artifact transfers over the control path, server side. Uploads: ARTIFACT_BEGIN, contiguous
 * ARTIFACT_CHUNKs, ARTIFACT_END; the server streams them to a partial file while hashing, verifies size
 * and SHA-256, stores the file and echoes ARTIFACT_END ("stored"), or answers ERROR with
 * `ref = transferId` ("refused") and deletes the partial file. Downloads: ARTIFACT_REQUEST is answered
 * by ARTIFACT_BEGIN (size, sha256), the chunks and ARTIFACT_END, or by ERROR with `ref = transferId`.
 * The scheduler's `authorize` decides which device may move which artifact.
 *
 * One concept, kept in one file (over 300 lines): uploads and downloads share one table of transfers by
 * (device, transfer id), one memory of refused ids, the idle sweep and the clean-up when a device goes
 * away; the byte-level work is `shared/artifact_io.ts`'s.
 */
import { ArtifactReceiver, sendArtifact } from "../../shared/artifact_io.ts";
import { DEFAULT_MAX_ARTIFACT_BYTES, validateSegmentName } from "../../shared/artifacts.ts";
import { systemClock, type Timers } from "../../shared/clock.ts";
import {
  decodeArtifactChunk,
  type ErrorCode,
  type Message,
  type MessageOf,
  type ProtocolError,
  protocolError,
} from "../../shared/protocol/mod.ts";
import type { Gateway } from "../gateway/types.ts";
import type { ArtifactMeta, ArtifactStore } from "./store.ts";

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
  clock?: Timers;
}

interface Upload {
  kind: "upload";
  key: string;
  deviceId: string;
  transferId: string;
  dagId: string;
  nodeId: string;
  artifact: string;
  size: number;
  sha256: string;
  receiver: ArtifactReceiver | null;
  /** The partial file, once created. */
  partialPath: string | null;
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
  readonly #clock: Timers;
  readonly #maxBytes: number;
  readonly #idleMs: number;
  readonly #active = new Map<string, Upload | Download>();
  /** Transfers already refused: their remaining chunks and END are dropped without another ERROR. */
  readonly #refused = new Set<string>();
  readonly #unsubscribe: Array<() => void>;
  readonly #sweeper: unknown;
  #closed = false;

  constructor(options: ArtifactTransfersOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#maxBytes = options.maxArtifactBytes ?? DEFAULT_MAX_ARTIFACT_BYTES;
    this.#idleMs = options.idleTimeoutMs ?? 60_000;
    this.#unsubscribe = [
      options.gateway.router.own(
        ["ARTIFACT_BEGIN", "ARTIFACT_CHUNK", "ARTIFACT_END", "ARTIFACT_REQUEST", "ERROR"],
        (deviceId, message) => this.#receive(deviceId, message),
      ),
      options.gateway.events.on("device-offline", (device) => this.#dropDevice(device.id)),
    ];
    this.#sweeper = this.#clock.setInterval(
      () => this.#sweep(),
      Math.max(10, Math.min(5000, this.#idleMs / 4)),
    );
  }

  /** Transfers in progress (uploads and downloads). */
  get activeCount(): number {
    return this.#active.size;
  }

  /** Stops listening, abandons every transfer and deletes their partial files. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.#clock.clearInterval(this.#sweeper);
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
      size: begin.size,
      sha256: begin.sha256,
      receiver: null,
      partialPath: null,
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
      const receiver = ArtifactReceiver.begin({ ...begin, maxBytes: this.#maxBytes }, async () => {
        const partial = await this.#options.store.createPartial();
        upload.partialPath = partial.path;
        return partial.file;
      });
      if (!receiver.ok) return this.#fail(upload, receiver.error);
      upload.dagId = allowed.dagId;
      upload.nodeId = allowed.nodeId;
      upload.receiver = receiver.value;
    });
  }

  #chunk(deviceId: string, payload: Uint8Array): void {
    const decoded = decodeArtifactChunk(payload);
    if (!decoded.ok) return this.#refuse(deviceId, { ...decoded.error, ref: "ARTIFACT_CHUNK" });
    const { transferId, offset, data } = decoded.value;
    const upload = this.#uploadFor(deviceId, transferId, "ARTIFACT_CHUNK");
    if (upload === null) return;
    upload.lastActiveMs = this.#clock.now();
    const copy = data.slice();
    this.#step(upload, () => {
      const refused = upload.receiver!.chunk(offset, copy);
      if (refused !== null) this.#fail(upload, refused);
    });
  }

  #endUpload(deviceId: string, transferId: string): void {
    const upload = this.#uploadFor(deviceId, transferId, "ARTIFACT_END");
    if (upload === null) return;
    upload.lastActiveMs = this.#clock.now();
    this.#step(upload, async () => {
      const receiver = upload.receiver!;
      const refused = await receiver.end();
      if (refused !== null) return this.#fail(upload, refused);
      const path = upload.partialPath!;
      upload.partialPath = null;
      const { size, sha256 } = upload;
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
  #step(upload: Upload, work: () => Promise<void> | void): void {
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
      await upload.receiver?.abort();
      const path = upload.partialPath;
      upload.partialPath = null;
      if (path !== null) await this.#options.store.discard(path);
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
      const outcome = await sendArtifact({
        link: {
          send: (type, payload) => gateway.send(deviceId, type, payload),
          bufferedAmount: () => this.#options.bufferedBytes?.(deviceId) ?? 0,
        },
        timers: this.#clock,
        file,
        begin: {
          transferId,
          taskId: request.taskId,
          artifact: request.artifact,
          size: meta.size,
          sha256: meta.sha256,
        },
        stopped: () => download.aborted || this.#closed,
        stallTimeoutMs: this.#idleMs,
      });
      if (outcome === "short-file") throw new Error(`stored file is shorter than its ${meta.size} bytes`);
      if (outcome === "stalled") download.aborted = true;
    } finally {
      file.close();
    }
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
