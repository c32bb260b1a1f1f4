/**
 * Artifact transfers end to end: a real gateway on a loopback port, the server's ArtifactTransfers and
 * store on a temp data dir, and devices that are either the real DeviceConnection + ArtifactClient or a
 * raw protocol device sending exactly the broken transfers a test needs.
 * Leak detection stays on: every socket, timer and file a test opens is closed by its end.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { ArtifactClient, type ArtifactLink } from "../client/artifacts.ts";
import { DeviceConnection } from "../client/connection.ts";
import { ArtifactStore } from "../server/artifacts/store.ts";
import { type ArtifactAuthorizer, ArtifactTransfers } from "../server/artifacts/transfer.ts";
import { CHUNK_BYTES, MAX_CHUNK_FRAME_BYTES } from "../shared/artifacts.ts";
import {
  decodeArtifactChunk,
  encodeArtifactChunk,
  type ErrorCode,
  FailureError,
  type Message,
  type MessageOf,
} from "../shared/protocol/mod.ts";
import { type Harness, startGateway, until } from "./helpers/gateway_harness.ts";
import { testCapabilities } from "./helpers/raw_device.ts";

const MiB = 1024 * 1024;
const MAX_ARTIFACT_BYTES = 2 * MiB;

/** The scheduler's answer, as a map: which device may move which artifact for which task. */
class Grants implements ArtifactAuthorizer {
  readonly uploads = new Map<string, { dagId: string; nodeId: string }>();
  readonly downloads = new Map<string, { dagId: string }>();

  allowUpload(deviceId: string, taskId: string, artifact: string, dagId: string, nodeId: string): void {
    this.uploads.set(`${deviceId}/${taskId}/${artifact}`, { dagId, nodeId });
  }

  allowDownload(deviceId: string, taskId: string, artifact: string, dagId: string): void {
    this.downloads.set(`${deviceId}/${taskId}/${artifact}`, { dagId });
  }

  upload(deviceId: string, taskId: string, artifact: string): { dagId: string; nodeId: string } | ErrorCode {
    return this.uploads.get(`${deviceId}/${taskId}/${artifact}`) ?? "not-your-work";
  }

  download(deviceId: string, taskId: string, artifact: string): { dagId: string } | ErrorCode {
    return this.downloads.get(`${deviceId}/${taskId}/${artifact}`) ?? "not-your-work";
  }
}

interface Server {
  h: Harness;
  store: ArtifactStore;
  transfers: ArtifactTransfers;
  grants: Grants;
  stored: Array<{ dagId: string; artifact: string; sha256: string }>;
  partials(): string[];
  close(): Promise<void>;
}

async function startServer(
  options: { bufferedBytes?: (deviceId: string) => number } = {},
): Promise<Server> {
  const dataDir = await Deno.makeTempDir({ prefix: "artifacts_data_" });
  const h = startGateway({
    limits: { maxFrameBytes: MAX_CHUNK_FRAME_BYTES, maxJsonBytes: 16 * 1024, maxMessagesPerSecond: 5000 },
  });
  const store = await ArtifactStore.open({ dataDir, clock: h.clock });
  const grants = new Grants();
  const stored: Server["stored"] = [];
  const transfers = new ArtifactTransfers({
    gateway: h.gateway,
    store,
    authorize: grants,
    maxArtifactBytes: MAX_ARTIFACT_BYTES,
    idleTimeoutMs: 3000,
    bufferedBytes: options.bufferedBytes,
    clock: h.clock,
    onStored: (dagId, artifact, meta) => stored.push({ dagId, artifact, sha256: meta.sha256 }),
  });
  return {
    h,
    store,
    transfers,
    grants,
    stored,
    partials: () => [...Deno.readDirSync(store.partialDir)].map((entry) => entry.name),
    async close() {
      await transfers.close();
      await h.close();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}

interface Device {
  id: string;
  filesDir: string;
  connection: DeviceConnection;
  client: ArtifactClient;
  /** Every server message the device received. */
  received: Message[];
  close(): Promise<void>;
}

/** A real device: DeviceConnection + ArtifactClient; `wrap` may interpose on its link or its inbox. */
async function startDevice(
  server: Server,
  name: string,
  wrap: {
    link?: (link: ArtifactLink) => ArtifactLink;
    inbox?: (message: Message, deliver: (message: Message) => void) => void;
  } = {},
): Promise<Device> {
  const filesDir = await Deno.makeTempDir({ prefix: `files_${name}_` });
  const received: Message[] = [];
  // `client` is created below; the connection delivers nothing before start().
  const deliver = (message: Message) => client.handle(message);
  const connection = new DeviceConnection({
    url: "memory:",
    connect: () => Promise.resolve(server.h.transport()),
    key: server.h.deviceKey.secret,
    clientVersion: "test/1",
    capabilities: () => Promise.resolve(testCapabilities(name)),
    clock: server.h.clock,
    onMessage: (message) => {
      received.push(message);
      if (wrap.inbox) wrap.inbox(message, deliver);
      else deliver(message);
    },
  });
  const client = new ArtifactClient({
    link: wrap.link ? wrap.link(connection) : connection,
    filesDir,
    idleTimeoutMs: 3000,
    clock: server.h.clock,
  });
  connection.start();
  await connection.ready;
  return {
    id: connection.deviceId!,
    filesDir,
    connection,
    client,
    received,
    async close() {
      client.close();
      connection.stop();
      await connection.stopped;
      await Deno.remove(filesDir, { recursive: true });
    },
  };
}

function randomBytes(byteLength: number): Uint8Array {
  const bytes = new Uint8Array(byteLength);
  for (let offset = 0; offset < byteLength; offset += 65536) {
    crypto.getRandomValues(bytes.subarray(offset, Math.min(byteLength, offset + 65536)));
  }
  return bytes;
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Messages of `type` the server received from `deviceId`. */
function fromDevice<T extends Message["type"]>(server: Server, deviceId: string, type: T): MessageOf<T>[] {
  return server.h.delivered
    .filter((entry) => entry.deviceId === deviceId && entry.message.type === type)
    .map((entry) => entry.message as MessageOf<T>);
}

async function assertTransferError(
  promise: Promise<unknown>,
  code: ErrorCode,
  message: RegExp,
  retryable: boolean,
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof FailureError, `expected a FailureError, got ${error}`);
    assert.equal(error.failure.code, code);
    assert.match(error.message, message);
    assert.equal(error.failure.retryable, retryable);
    return true;
  });
}

Deno.test(
  "a 1 MiB output moves device A → server → device B byte for byte, SHA-256 verified",
  async () => {
    const server = await startServer();
    const a = await startDevice(server, "device-a");
    const b = await startDevice(server, "device-b");
    try {
      const bytes = randomBytes(MiB);
      const digest = sha256(bytes);
      await Deno.mkdir(join(a.filesDir, "out"));
      await Deno.writeFile(join(a.filesDir, "out", "report.bin"), bytes);
      server.grants.allowUpload(a.id, "task-a", "report", "dag-1", "download");

      const uploaded = await a.client.uploadOutputs("task-a", [{
        artifact: "report",
        file: "out/report.bin",
      }]);
      assert.deepEqual(uploaded, [{ artifact: "report", file: "out/report.bin", size: MiB, sha256: digest }]);

      const chunks = fromDevice(server, a.id, "ARTIFACT_CHUNK");
      assert.equal(chunks.length, MiB / CHUNK_BYTES, "sent in 256 KiB chunks");
      const meta = await server.store.describe("dag-1", "report");
      assert.ok(meta !== null);
      assert.equal(meta.size, MiB);
      assert.equal(meta.sha256, digest);
      assert.deepEqual(meta.producedBy, { nodeId: "download", deviceId: a.id });
      assert.deepEqual(server.stored, [{ dagId: "dag-1", artifact: "report", sha256: digest }]);
      const storedBytes = await Deno.readFile(join(server.store.root, "dag-1", "report"));
      assert.equal(sha256(storedBytes), digest, "the stored file is the device's file");
      const opened = await server.store.open("dag-1", "report");
      assert.ok(opened !== null);
      assert.equal(sha256(new Uint8Array(await new Response(opened.stream).arrayBuffer())), digest);
      assert.ok(
        a.received.some((m) => m.type === "ARTIFACT_END"),
        "the server confirmed the upload with ARTIFACT_END",
      );

      server.grants.allowDownload(b.id, "task-b", "report", "dag-1");
      const input = { artifact: "report", file: "incoming/report.bin", size: MiB, sha256: digest };
      await b.client.fetchInputs("task-b", [input]);
      const received = await Deno.readFile(join(b.filesDir, "incoming", "report.bin"));
      assert.deepEqual(received, bytes, "device B has identical bytes");
      assert.deepEqual([...Deno.readDirSync(join(b.filesDir, "incoming"))].map((e) => e.name), [
        "report.bin",
      ]);
      assert.equal(fromDevice(server, b.id, "ARTIFACT_REQUEST").length, 1);
      assert.equal(server.transfers.activeCount, 0);
      assert.deepEqual(server.partials(), []);
    } finally {
      await a.close();
      await b.close();
      await server.close();
    }
  },
);

Deno.test("two uploads from one device run concurrently and both are stored", async () => {
  const server = await startServer();
  const a = await startDevice(server, "device-a");
  try {
    const one = randomBytes(CHUNK_BYTES * 2 + 17);
    const two = randomBytes(CHUNK_BYTES + 1);
    await Deno.writeFile(join(a.filesDir, "one.bin"), one);
    await Deno.writeFile(join(a.filesDir, "two.bin"), two);
    server.grants.allowUpload(a.id, "t1", "one", "dag-1", "n1");
    server.grants.allowUpload(a.id, "t2", "two", "dag-1", "n2");
    await Promise.all([
      a.client.uploadOutputs("t1", [{ artifact: "one", file: "one.bin" }]),
      a.client.uploadOutputs("t2", [{ artifact: "two", file: "two.bin" }]),
    ]);
    assert.equal((await server.store.describe("dag-1", "one"))?.sha256, sha256(one));
    assert.equal((await server.store.describe("dag-1", "two"))?.sha256, sha256(two));
    assert.deepEqual((await server.store.list("dag-1")).map((entry) => entry.artifact), ["one", "two"]);
  } finally {
    await a.close();
    await server.close();
  }
});

Deno.test("an upload whose declared SHA-256 is wrong is refused with checksum-mismatch", async () => {
  const server = await startServer();
  const raw = server.h.device();
  try {
    const { ready } = await raw.handshake(server.h.deviceKey.secret, "raw");
    server.grants.allowUpload(ready.payload.deviceId, "t", "report", "dag-1", "n");
    const bytes = randomBytes(CHUNK_BYTES + 100);
    raw.sendReliable("ARTIFACT_BEGIN", {
      transferId: "corrupt-1",
      taskId: "t",
      artifact: "report",
      size: bytes.byteLength,
      sha256: sha256(bytes.subarray(1)),
    });
    raw.send(
      "ARTIFACT_CHUNK",
      encodeArtifactChunk({ transferId: "corrupt-1", offset: 0, data: bytes.subarray(0, CHUNK_BYTES) }),
    );
    raw.send(
      "ARTIFACT_CHUNK",
      encodeArtifactChunk({
        transferId: "corrupt-1",
        offset: CHUNK_BYTES,
        data: bytes.subarray(CHUNK_BYTES),
      }),
    );
    raw.sendReliable("ARTIFACT_END", { transferId: "corrupt-1" });
    const error = await raw.next("ERROR");
    assert.equal(error.payload.code, "checksum-mismatch");
    assert.equal(error.payload.ref, "corrupt-1");
    await until(() => server.partials().length === 0, "the partial file to be deleted");
    assert.equal(await server.store.has("dag-1", "report"), false);
    assert.equal(server.stored.length, 0);
    assert.equal(server.transfers.activeCount, 0);
    assert.ok(!raw.received.some((m) => m.type === "ARTIFACT_END"), "no confirmation was sent");
  } finally {
    await raw.close();
    await server.close();
  }
});

Deno.test("over-size and overrunning uploads are refused", async (t) => {
  const server = await startServer();
  const raw = server.h.device();
  const a = await startDevice(server, "device-a");
  try {
    const { ready } = await raw.handshake(server.h.deviceKey.secret, "raw");
    const rawId = ready.payload.deviceId;
    server.grants.allowUpload(rawId, "t", "big", "dag-1", "n");

    await t.step("a declared size above the limit gets artifact-too-large at BEGIN", async () => {
      raw.sendReliable("ARTIFACT_BEGIN", {
        transferId: "big-1",
        taskId: "t",
        artifact: "big",
        size: MAX_ARTIFACT_BYTES + 1,
        sha256: "0".repeat(64),
      });
      const error = await raw.next("ERROR");
      assert.equal(error.payload.code, "artifact-too-large");
      assert.equal(error.payload.ref, "big-1");
      assert.match(error.payload.message, /2097153 bytes declared, limit is 2097152/);
      raw.send(
        "ARTIFACT_CHUNK",
        encodeArtifactChunk({ transferId: "big-1", offset: 0, data: new Uint8Array(10) }),
      );
      raw.sendReliable("ARTIFACT_END", { transferId: "big-1" });
      // A marker after them: an END for a transfer nobody began is answered; anything about big-1 came first.
      raw.sendReliable("ARTIFACT_END", { transferId: "marker-1" });
      const next = await raw.next("ERROR");
      assert.equal(next.payload.ref, "marker-1", "stray chunks of a refused transfer are dropped unanswered");
      assert.equal(await server.store.has("dag-1", "big"), false);
    });

    await t.step("bytes beyond the declared size are refused", async () => {
      raw.sendReliable("ARTIFACT_BEGIN", {
        transferId: "over-1",
        taskId: "t",
        artifact: "big",
        size: 10,
        sha256: "0".repeat(64),
      });
      raw.send(
        "ARTIFACT_CHUNK",
        encodeArtifactChunk({ transferId: "over-1", offset: 0, data: new Uint8Array(11) }),
      );
      const error = await raw.next("ERROR");
      assert.equal(error.payload.code, "schema-violation");
      assert.equal(error.payload.ref, "over-1");
      assert.match(error.payload.message, /past the declared size 10/);
      await until(() => server.partials().length === 0, "the partial file to be deleted");
    });

    await t.step("the device client gives up at once on artifact-too-large", async () => {
      await Deno.writeFile(join(a.filesDir, "huge.bin"), new Uint8Array(MAX_ARTIFACT_BYTES + 1));
      server.grants.allowUpload(a.id, "ta", "huge", "dag-1", "n");
      await assertTransferError(
        a.client.uploadOutputs("ta", [{ artifact: "huge", file: "huge.bin" }]),
        "artifact-too-large",
        /^Cannot upload output huge from huge\.bin: .*limit is 2097152/,
        false,
      );
      assert.equal(fromDevice(server, a.id, "ARTIFACT_BEGIN").length, 1, "not retried");
      assert.equal(await server.store.has("dag-1", "huge"), false);
    });
  } finally {
    await a.close();
    await raw.close();
    await server.close();
  }
});

Deno.test("transfers outside the device's task are refused with not-your-work", async (t) => {
  const server = await startServer();
  const a = await startDevice(server, "device-a");
  const b = await startDevice(server, "device-b");
  try {
    await Deno.writeFile(join(a.filesDir, "r.bin"), randomBytes(1000));
    server.grants.allowUpload(a.id, "task-a", "report", "dag-1", "n");
    await a.client.uploadOutputs("task-a", [{ artifact: "report", file: "r.bin" }]);
    const meta = (await server.store.describe("dag-1", "report"))!;

    await t.step("an input the device's task does not take", async () => {
      server.grants.allowDownload(b.id, "task-b", "other", "dag-1");
      const input = { artifact: "report", file: "r.bin", size: meta.size, sha256: meta.sha256 };
      await assertTransferError(
        b.client.fetchInputs("task-b", [input]),
        "not-your-work",
        /^Cannot fetch input report into r\.bin: .*task task-b may not download artifact report/,
        false,
      );
      assert.equal(fromDevice(server, b.id, "ARTIFACT_REQUEST").length, 1, "not retried");
      await assert.rejects(Deno.stat(join(b.filesDir, "r.bin")), Deno.errors.NotFound);
      assert.deepEqual([...Deno.readDirSync(b.filesDir)], [], "no temp file left");
    });

    await t.step("an output the device's task does not declare", async () => {
      await Deno.writeFile(join(b.filesDir, "fake.bin"), randomBytes(100));
      await assertTransferError(
        b.client.uploadOutputs("task-a", [{ artifact: "report", file: "fake.bin" }]),
        "not-your-work",
        /task task-a may not upload artifact report/,
        false,
      );
      assert.equal((await server.store.describe("dag-1", "report"))?.sha256, meta.sha256, "original kept");
    });
  } finally {
    await a.close();
    await b.close();
    await server.close();
  }
});

Deno.test(
  "the device refuses task paths that leave its files dir, before asking the server",
  async (t) => {
    const server = await startServer();
    const b = await startDevice(server, "device-b");
    const outside = await Deno.makeTempDir({ prefix: "outside_" });
    try {
      server.grants.allowDownload(b.id, "task-b", "report", "dag-1");
      const input = { artifact: "report", size: 1, sha256: "0".repeat(64) };
      await t.step("a '..' path in an input", async () => {
        await assertTransferError(
          b.client.fetchInputs("task-b", [{ ...input, file: "../escape.bin" }]),
          "path-escape",
          /^Cannot fetch input report into \.\.\/escape\.bin: .*'\.\.' segment/,
          false,
        );
      });
      await t.step("an absolute path in an input", async () => {
        await assertTransferError(
          b.client.fetchInputs("task-b", [{ ...input, file: join(outside, "x.bin") }]),
          "path-escape",
          /is absolute/,
          false,
        );
      });
      await t.step("a symlink in the files dir that points outside", async () => {
        await Deno.symlink(outside, join(b.filesDir, "link"));
        await assertTransferError(
          b.client.fetchInputs("task-b", [{ ...input, file: "link/x.bin" }]),
          "path-escape",
          /leaves the files directory via link/,
          false,
        );
        await Deno.writeTextFile(join(outside, "secret.txt"), "secret");
        await assertTransferError(
          b.client.uploadOutputs("task-b", [{ artifact: "report", file: "link/secret.txt" }]),
          "path-escape",
          /leaves the files directory via link/,
          false,
        );
      });
      assert.equal(fromDevice(server, b.id, "ARTIFACT_REQUEST").length, 0, "nothing was requested");
      assert.equal(fromDevice(server, b.id, "ARTIFACT_BEGIN").length, 0, "nothing was uploaded");
      assert.deepEqual([...Deno.readDirSync(outside)].map((e) => e.name), ["secret.txt"]);
    } finally {
      await b.close();
      await server.close();
      await Deno.remove(outside, { recursive: true });
    }
  },
);

Deno.test("a missing output file fails the upload with action-failed naming the file", async () => {
  const server = await startServer();
  const a = await startDevice(server, "device-a");
  try {
    server.grants.allowUpload(a.id, "t", "report", "dag-1", "n");
    await assertTransferError(
      a.client.uploadOutputs("t", [{ artifact: "report", file: "out/missing.pdf" }]),
      "action-failed",
      /^Cannot upload output report from out\/missing\.pdf: file out\/missing\.pdf does not exist/,
      false,
    );
    assert.equal(fromDevice(server, a.id, "ARTIFACT_BEGIN").length, 0);
  } finally {
    await a.close();
    await server.close();
  }
});

Deno.test("a transfer that loses a chunk is retried whole with a new transfer id", async (t) => {
  const server = await startServer();
  let dropUploadChunk = true;
  const a = await startDevice(server, "device-a", {
    link: (link) => ({
      send(type, payload) {
        // The second chunk of the first upload is lost, as on a dropped socket.
        if (type === "ARTIFACT_CHUNK" && dropUploadChunk) {
          const chunk = decodeArtifactChunk(payload as unknown as Uint8Array);
          if (chunk.ok && chunk.value.offset === CHUNK_BYTES) {
            dropUploadChunk = false;
            return;
          }
        }
        link.send(type, payload);
      },
      get bufferedAmount() {
        return link.bufferedAmount;
      },
    }),
  });
  let dropDownloadChunk = true;
  const b = await startDevice(server, "device-b", {
    inbox: (message, deliver) => {
      if (message.type === "ARTIFACT_CHUNK" && dropDownloadChunk) {
        dropDownloadChunk = false;
        return;
      }
      deliver(message);
    },
  });
  try {
    const bytes = randomBytes(3 * CHUNK_BYTES);
    await Deno.writeFile(join(a.filesDir, "r.bin"), bytes);
    server.grants.allowUpload(a.id, "ta", "report", "dag-1", "n");
    server.grants.allowDownload(b.id, "tb", "report", "dag-1");

    await t.step("upload: the server sees the gap, refuses, the device retries", async () => {
      const [uploaded] = await a.client.uploadOutputs("ta", [{ artifact: "report", file: "r.bin" }]);
      assert.equal(uploaded.sha256, sha256(bytes));
      const begins = fromDevice(server, a.id, "ARTIFACT_BEGIN").map((m) => m.payload.transferId);
      assert.equal(begins.length, 2);
      assert.notEqual(begins[0], begins[1]);
      const refusal = a.received.find((m) => m.type === "ERROR");
      assert.equal(refusal?.type, "ERROR");
      if (refusal?.type === "ERROR") {
        assert.equal(refusal.payload.code, "schema-violation");
        assert.equal(refusal.payload.ref, begins[0]);
        assert.match(
          refusal.payload.message,
          new RegExp(`chunk at offset ${2 * CHUNK_BYTES}, expected ${CHUNK_BYTES}`),
        );
      }
      assert.equal((await server.store.describe("dag-1", "report"))?.sha256, sha256(bytes));
    });

    await t.step("download: the device sees the gap, tells the server, retries", async () => {
      const input = { artifact: "report", file: "in/r.bin", size: bytes.byteLength, sha256: sha256(bytes) };
      await b.client.fetchInputs("tb", [input]);
      assert.deepEqual(await Deno.readFile(join(b.filesDir, "in", "r.bin")), bytes);
      const requests = fromDevice(server, b.id, "ARTIFACT_REQUEST").map((m) => m.payload.transferId);
      assert.equal(requests.length, 2);
      const told = fromDevice(server, b.id, "ERROR");
      assert.equal(told.length, 1);
      assert.equal(told[0].payload.ref, requests[0]);
      assert.deepEqual([...Deno.readDirSync(join(b.filesDir, "in"))].map((e) => e.name), ["r.bin"]);
      await until(() => server.transfers.activeCount === 0, "the abandoned download to end");
    });
  } finally {
    await a.close();
    await b.close();
    await server.close();
  }
});

Deno.test("a device going offline mid-upload leaves no partial file", async () => {
  const server = await startServer();
  const raw = server.h.device();
  try {
    const { ready } = await raw.handshake(server.h.deviceKey.secret, "raw");
    server.grants.allowUpload(ready.payload.deviceId, "t", "report", "dag-1", "n");
    raw.sendReliable("ARTIFACT_BEGIN", {
      transferId: "half-1",
      taskId: "t",
      artifact: "report",
      size: 2 * CHUNK_BYTES,
      sha256: "0".repeat(64),
    });
    raw.send(
      "ARTIFACT_CHUNK",
      encodeArtifactChunk({ transferId: "half-1", offset: 0, data: randomBytes(CHUNK_BYTES) }),
    );
    await until(() => server.partials().length === 1, "the partial file to appear");
    raw.send("BYE", { reason: "going away" });
    await until(() => server.h.offline.length === 1, "the device to go offline");
    await until(() => server.partials().length === 0, "the partial file to be deleted");
    assert.equal(server.transfers.activeCount, 0);
    assert.equal(await server.store.has("dag-1", "report"), false);
  } finally {
    await raw.close();
    await server.close();
  }
});

Deno.test(
  "ArtifactTransfers.close() abandons uploads in flight and deletes their partial files",
  async () => {
    const server = await startServer();
    const raw = server.h.device();
    try {
      const { ready } = await raw.handshake(server.h.deviceKey.secret, "raw");
      server.grants.allowUpload(ready.payload.deviceId, "t", "report", "dag-1", "n");
      raw.sendReliable("ARTIFACT_BEGIN", {
        transferId: "open-1",
        taskId: "t",
        artifact: "report",
        size: 2 * CHUNK_BYTES,
        sha256: "0".repeat(64),
      });
      raw.send(
        "ARTIFACT_CHUNK",
        encodeArtifactChunk({ transferId: "open-1", offset: 0, data: randomBytes(100) }),
      );
      await until(() => server.partials().length === 1, "the partial file to appear");
      await server.transfers.close();
      assert.deepEqual(server.partials(), []);
      assert.equal(server.transfers.activeCount, 0);
    } finally {
      await raw.close();
      await server.close();
    }
  },
);

Deno.test("both senders hold chunks back while the socket buffer is above 4 MiB", async (t) => {
  let serverBacklog = 8 * MiB;
  const server = await startServer({ bufferedBytes: () => serverBacklog });
  let deviceBacklog = 8 * MiB;
  const a = await startDevice(server, "device-a", {
    link: (link) => ({
      send: (type, payload) => link.send(type, payload),
      get bufferedAmount() {
        return deviceBacklog;
      },
    }),
  });
  const b = await startDevice(server, "device-b");
  try {
    const bytes = randomBytes(2 * CHUNK_BYTES);
    await Deno.writeFile(join(a.filesDir, "r.bin"), bytes);
    server.grants.allowUpload(a.id, "ta", "report", "dag-1", "n");
    server.grants.allowDownload(b.id, "tb", "report", "dag-1");

    await t.step("the device's upload waits for its socket to drain", async () => {
      const upload = a.client.uploadOutputs("ta", [{ artifact: "report", file: "r.bin" }]);
      await until(() => fromDevice(server, a.id, "ARTIFACT_BEGIN").length === 1, "BEGIN");
      await server.h.clock.tickAsync(100);
      assert.equal(fromDevice(server, a.id, "ARTIFACT_CHUNK").length, 0, "no chunk while backed up");
      deviceBacklog = 0;
      await server.h.clock.tickAsync(10);
      await upload;
      assert.equal(fromDevice(server, a.id, "ARTIFACT_CHUNK").length, 2);
    });

    await t.step("the server's download waits for the device's socket to drain", async () => {
      const input = { artifact: "report", file: "r.bin", size: bytes.byteLength, sha256: sha256(bytes) };
      const fetched = b.client.fetchInputs("tb", [input]);
      await until(() => b.received.some((m) => m.type === "ARTIFACT_BEGIN"), "BEGIN");
      await server.h.clock.tickAsync(100);
      assert.ok(!b.received.some((m) => m.type === "ARTIFACT_CHUNK"), "no chunk while backed up");
      serverBacklog = 0;
      await server.h.clock.tickAsync(10);
      await fetched;
      assert.deepEqual(await Deno.readFile(join(b.filesDir, "r.bin")), bytes);
    });
  } finally {
    await a.close();
    await b.close();
    await server.close();
  }
});

Deno.test("a device that gives up on an upload makes the server drop its partial file", async () => {
  const server = await startServer();
  const raw = server.h.device();
  try {
    const { ready } = await raw.handshake(server.h.deviceKey.secret, "raw");
    server.grants.allowUpload(ready.payload.deviceId, "t", "report", "dag-1", "n");
    raw.sendReliable("ARTIFACT_BEGIN", {
      transferId: "quit-1",
      taskId: "t",
      artifact: "report",
      size: 2 * CHUNK_BYTES,
      sha256: "0".repeat(64),
    });
    raw.send(
      "ARTIFACT_CHUNK",
      encodeArtifactChunk({ transferId: "quit-1", offset: 0, data: randomBytes(100) }),
    );
    await until(() => server.partials().length === 1, "the partial file to appear");
    raw.send("ERROR", { code: "timeout", message: "no progress", ref: "quit-1" });
    await until(() => server.partials().length === 0, "the partial file to be deleted");
    assert.equal(server.transfers.activeCount, 0);
  } finally {
    await raw.close();
    await server.close();
  }
});
