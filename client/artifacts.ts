/**
 * Artifact transfers, device side. Inputs: ARTIFACT_REQUEST, then the server's BEGIN / CHUNKs / END are
 * written to a temp file beside the target inside the files directory, hashed as they arrive, checked
 * against the size and SHA-256 the task declared, and renamed into place. Outputs: the file is hashed,
 * sent as BEGIN / CHUNKs / END with backpressure, and the upload counts once the server echoes
 * ARTIFACT_END; an ERROR with `ref = transferId` refuses it. A broken transfer is retried whole with a new
 * transfer id; refusals (not-your-work, artifact-too-large, path-escape) are not.
 *
 * One concept, kept in one file (over 300 lines): fetches and uploads share the transfer table the
 * server's answers are matched against, the idle timers and the whole-transfer retry policy; the
 * byte-level work is `shared/artifact_io.ts`'s.
 */
import { basename, dirname, join } from "node:path";
import { ArtifactReceiver, digestOf, sendArtifact } from "../shared/artifact_io.ts";
import { isRetryableTransferError, MAX_TRANSFER_ATTEMPTS } from "../shared/artifacts.ts";
import { systemClock, type Timers } from "../shared/clock.ts";
import {
  decodeArtifactChunk,
  FailureError,
  type Message,
  type MessageOf,
  type MessageType,
  type PayloadInputOf,
  type ProtocolError,
  protocolError,
} from "../shared/protocol/mod.ts";
import { resolveInFilesDir } from "./files.ts";
import type { TaskFiles } from "./runtime.ts";

/** The slice of the device connection the artifact client needs. */
export interface ArtifactLink {
  send<T extends MessageType>(type: T, payload: Omit<PayloadInputOf<T>, "seq">): void;
  /** Unsent bytes in the socket. */
  readonly bufferedAmount: number;
}

/** Settings of the device's artifact client. */
export interface ArtifactClientOptions {
  link: ArtifactLink;
  /** The only directory artifacts are read from or written to. */
  filesDir: string;
  /** Transfer id source; default `crypto.randomUUID`. */
  newId?: () => string;
  /** Whole-transfer attempts (default 3). */
  maxAttempts?: number;
  /** A transfer with no progress for this long fails and is retried (default 30 s). */
  idleTimeoutMs?: number;
  clock?: Timers;
}

type TaskInput = MessageOf<"EXECUTE_TASK">["payload"]["inputs"][number];
type TaskOutput = MessageOf<"EXECUTE_TASK">["payload"]["outputs"][number];
/** An uploaded output as the task's RESULT lists it. */
export type UploadedArtifact = TaskInput;

interface Transfer {
  transferId: string;
  kind: "download" | "upload";
  settle(error: ProtocolError | null): void;
  settled: boolean;
  timer?: unknown;
}

interface Incoming extends Transfer {
  kind: "download";
  input: TaskInput;
  target: string;
  tempPath: string;
  receiver: ArtifactReceiver | null;
  chain: Promise<void>;
}

/** Moves a task's input and output files between the files directory and the server. */
export class ArtifactClient implements TaskFiles {
  readonly #options: ArtifactClientOptions;
  readonly #transfers = new Map<string, Incoming | Transfer>();
  readonly #clock: Timers;

  constructor(options: ArtifactClientOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** Fetches each input into its `file`; throws a `FailureError` naming the input on failure. */
  async fetchInputs(taskId: string, inputs: readonly TaskInput[]): Promise<void> {
    for (const input of inputs) {
      const target = await resolveInFilesDir(this.#options.filesDir, input.file, { createParents: true });
      const what = `Cannot fetch input ${input.artifact} into ${input.file}`;
      if (!target.ok) {
        throw new FailureError({
          code: "path-escape",
          message: `${what}: ${target.error.message}`,
          retryable: false,
        });
      }
      await this.#withRetries(what, () => this.#downloadOnce(taskId, input, target.value));
    }
  }

  /** Uploads each declared output; returns them with size and SHA-256 for the task's RESULT. */
  async uploadOutputs(taskId: string, outputs: readonly TaskOutput[]): Promise<UploadedArtifact[]> {
    const uploaded: UploadedArtifact[] = [];
    for (const output of outputs) {
      const what = `Cannot upload output ${output.artifact} from ${output.file}`;
      const path = await resolveInFilesDir(this.#options.filesDir, output.file);
      if (!path.ok) {
        throw new FailureError({
          code: "path-escape",
          message: `${what}: ${path.error.message}`,
          retryable: false,
        });
      }
      let digest = await digestFile(path.value);
      if (digest === null) {
        const detail = `${what}: file ${output.file} does not exist in the files directory`;
        throw new FailureError({ code: "action-failed", message: detail, retryable: false });
      }
      await this.#withRetries(what, async (attempt) => {
        if (attempt > 1) digest = (await digestFile(path.value)) ?? digest;
        return this.#uploadOnce(taskId, output.artifact, path.value, digest!);
      });
      uploaded.push({ ...output, ...digest });
    }
    return uploaded;
  }

  /** Takes an artifact message (BEGIN, CHUNK, END, or an ERROR about a transfer); false if not one. */
  handle(message: Message): boolean {
    switch (message.type) {
      case "ARTIFACT_BEGIN":
        this.#begin(message.payload);
        return true;
      case "ARTIFACT_CHUNK":
        this.#chunk(message.payload);
        return true;
      case "ARTIFACT_END":
        this.#end(message.payload.transferId);
        return true;
      case "ERROR": {
        const transfer = this.#transfers.get(message.payload.ref ?? "");
        if (transfer === undefined) return false;
        this.#fail(transfer, message.payload, false);
        return true;
      }
      default:
        return false;
    }
  }

  /** Fails every transfer in flight (their temp files are deleted). */
  close(): void {
    for (const transfer of [...this.#transfers.values()]) {
      this.#fail(transfer, protocolError("cancelled", "artifact client closed", transfer.transferId), true);
    }
  }

  async #withRetries(what: string, attemptOnce: (attempt: number) => Promise<ProtocolError | null>) {
    const maxAttempts = this.#options.maxAttempts ?? MAX_TRANSFER_ATTEMPTS;
    for (let attempt = 1;; attempt++) {
      const error = await attemptOnce(attempt);
      if (error === null) return;
      const retryable = isRetryableTransferError(error.code);
      if (!retryable || attempt >= maxAttempts) {
        const tries = retryable ? ` (after ${attempt} attempts)` : "";
        throw new FailureError({
          code: error.code,
          message: `${what}: ${error.message}${tries}`,
          retryable: retryable,
        });
      }
    }
  }

  async #downloadOnce(taskId: string, input: TaskInput, target: string): Promise<ProtocolError | null> {
    const transferId = this.#newId();
    const tempPath = join(dirname(target), `.${basename(target)}.${transferId}.part`);
    const incoming: Incoming = {
      ...this.#track(transferId, "download"),
      kind: "download",
      input,
      target,
      tempPath,
      receiver: null,
      chain: Promise.resolve(),
    };
    const done = this.#register(incoming);
    this.#options.link.send("ARTIFACT_REQUEST", { transferId, taskId, artifact: input.artifact });
    const error = await done;
    await incoming.chain;
    return error;
  }

  #begin(begin: MessageOf<"ARTIFACT_BEGIN">["payload"]): void {
    const incoming = this.#transfers.get(begin.transferId);
    if (incoming?.kind !== "download") {
      // A request replayed after a reconnect, long given up: tell the server to stop sending.
      const error = protocolError(
        "cancelled",
        "the device no longer waits for this transfer",
        begin.transferId,
      );
      return this.#options.link.send("ERROR", error);
    }
    const download = incoming as Incoming;
    this.#touch(download);
    const { input } = download;
    if (begin.artifact !== input.artifact || begin.size !== input.size || begin.sha256 !== input.sha256) {
      const detail =
        `server offers ${begin.artifact} (${begin.size} bytes, ${begin.sha256}), the task expects ` +
        `${input.artifact} (${input.size} bytes, ${input.sha256})`;
      return this.#fail(download, protocolError("checksum-mismatch", detail, begin.transferId), true);
    }
    const receiver = ArtifactReceiver.begin(
      { ...begin, maxBytes: input.size },
      () => Deno.open(download.tempPath, { write: true, createNew: true }),
    );
    if (!receiver.ok) return this.#fail(download, receiver.error, true);
    download.receiver = receiver.value;
  }

  #chunk(payload: Uint8Array): void {
    const decoded = decodeArtifactChunk(payload);
    if (!decoded.ok) return;
    const download = this.#transfers.get(decoded.value.transferId);
    if (download?.kind !== "download") return;
    const incoming = download as Incoming;
    if (incoming.receiver === null) {
      return this.#fail(incoming, protocolError("out-of-order", "chunk before ARTIFACT_BEGIN"), true);
    }
    this.#touch(incoming);
    const refused = incoming.receiver.chunk(decoded.value.offset, decoded.value.data);
    if (refused !== null) this.#fail(incoming, refused, true);
  }

  #end(transferId: string): void {
    const transfer = this.#transfers.get(transferId);
    if (transfer === undefined) return;
    if (transfer.kind === "upload") return this.#succeed(transfer);
    const incoming = transfer as Incoming;
    const receiver = incoming.receiver;
    if (receiver === null) {
      return this.#fail(incoming, protocolError("out-of-order", "END before ARTIFACT_BEGIN"), true);
    }
    this.#step(incoming, async () => {
      const refused = await receiver.end();
      if (refused !== null) return this.#fail(incoming, refused, true);
      await Deno.rename(incoming.tempPath, incoming.target);
      this.#succeed(incoming);
    });
  }

  async #uploadOnce(
    taskId: string,
    artifact: string,
    path: string,
    digest: { size: number; sha256: string },
  ): Promise<ProtocolError | null> {
    const transferId = this.#newId();
    const transfer = this.#track(transferId, "upload");
    const done = this.#register(transfer);
    const { link } = this.#options;
    const file = await Deno.open(path, { read: true });
    try {
      const outcome = await sendArtifact({
        link: {
          send: (type, payload) => {
            if (type === "ARTIFACT_CHUNK") this.#touch(transfer);
            link.send(type, payload);
          },
          bufferedAmount: () => link.bufferedAmount,
        },
        timers: this.#clock,
        file,
        begin: { transferId, taskId, artifact, ...digest },
        stopped: () => transfer.settled,
      });
      if (outcome === "short-file" || outcome === "stalled") {
        const detail = outcome === "short-file"
          ? `${path} shrank while it was sent`
          : "the link stayed backed up";
        this.#fail(transfer, protocolError("action-failed", detail, transferId), true);
      }
    } finally {
      file.close();
    }
    return await done;
  }

  #track(transferId: string, kind: "download" | "upload"): Transfer {
    return { transferId, kind, settled: false, settle: () => {} };
  }

  /** Registers a transfer and returns a promise of its outcome (null on success). */
  #register(transfer: Transfer): Promise<ProtocolError | null> {
    const done = new Promise<ProtocolError | null>((resolve) => {
      transfer.settle = (error) => {
        if (transfer.settled) return;
        transfer.settled = true;
        this.#clock.clearTimeout(transfer.timer);
        this.#transfers.delete(transfer.transferId);
        resolve(error);
      };
    });
    this.#transfers.set(transfer.transferId, transfer);
    this.#touch(transfer);
    return done;
  }

  /** Restarts the idle timer of a transfer. */
  #touch(transfer: Transfer): void {
    this.#clock.clearTimeout(transfer.timer);
    const idleMs = this.#options.idleTimeoutMs ?? 30_000;
    transfer.timer = this.#clock.setTimeout(() => {
      this.#fail(
        transfer,
        protocolError("timeout", `no progress for ${idleMs} ms`, transfer.transferId),
        true,
      );
    }, idleMs);
  }

  #succeed(transfer: Transfer): void {
    transfer.settle(null);
  }

  /** Ends a transfer as failed; `tellServer` sends an ERROR so the server stops sending or drops the upload. */
  #fail(transfer: Transfer, error: ProtocolError, tellServer: boolean): void {
    if (transfer.settled) return;
    transfer.settle(error);
    if (tellServer) this.#options.link.send("ERROR", { ...error, ref: transfer.transferId });
    if (transfer.kind !== "download") return;
    const incoming = transfer as Incoming;
    incoming.chain = incoming.chain.then(async () => {
      await incoming.receiver?.abort();
      await Deno.remove(incoming.tempPath).catch(() => {});
    });
  }

  /** Runs download file work in order; a thrown error fails the transfer. */
  #step(incoming: Incoming, work: () => Promise<void>): void {
    incoming.chain = incoming.chain.then(() => (incoming.settled ? undefined : work())).catch((error) => {
      const detail = `cannot write ${incoming.input.file}: ${(error as Error).message ?? error}`;
      this.#fail(incoming, protocolError("internal", detail, incoming.transferId), true);
    });
  }

  #newId(): string {
    return this.#options.newId?.() ?? crypto.randomUUID();
  }
}

/** Size and SHA-256 of a regular file, read in chunks; null if it does not exist or is not a file. */
async function digestFile(path: string): Promise<{ size: number; sha256: string } | null> {
  let file: Deno.FsFile;
  try {
    if (!(await Deno.stat(path)).isFile) return null;
    file = await Deno.open(path, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
  try {
    return await digestOf(file);
  } finally {
    file.close();
  }
}
