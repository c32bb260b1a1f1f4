/**
 * `GET /api/events`: streams end when their token is revoked, a Last-Event-ID the server does not know
 * resumes from the newest event, and device state changes are events in the same id sequence.
 */
import assert from "node:assert/strict";
import { KEY_MIGRATIONS, KeyStore } from "../server/auth/key_store.ts";
import { openDatabase } from "../server/store/db.ts";
import { RawDevice } from "./helpers/raw_device.ts";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { type SseEvent, SseStream } from "./helpers/sse.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

/** Streams a test opened; closed in its `finally` so a failed test cannot leave the server waiting on them. */
const opened: SseStream[] = [];

async function events(server: TestServer, path = "/api/events", init: RequestInit & { token?: string } = {}) {
  const stream = new SseStream(await server.api(path, init));
  opened.push(stream);
  await stream.comment("connected");
  return stream;
}

async function closeAll(): Promise<void> {
  await Promise.all(opened.splice(0).map((stream) => stream.close()));
}

async function submit(server: TestServer, dag: unknown): Promise<string> {
  const response = await server.api("/api/dags", { method: "POST", body: JSON.stringify(dag) });
  assert.equal(response.status, 201, await response.clone().text());
  return (await response.json()).id;
}

const quickDag = (name: string) => ({ name, nodes: [{ id: "a", kind: "server", op: { sleepMs: 1 } }] });
const forDag = (dagId: string) => (event: SseEvent) => event.data.dagId === dagId;
const dagEnded = (dagId: string) => (event: SseEvent) =>
  event.data.dagId === dagId && event.data.kind === "dag" && event.data.to === "succeeded";

async function operatorKey(server: TestServer, name: string): Promise<{ id: string; secret: string }> {
  const response = await server.api("/api/keys", {
    method: "POST",
    body: JSON.stringify({ scope: "operator", name }),
  });
  assert.equal(response.status, 201);
  return await response.json();
}

Deno.test("an event stream ends when its token is revoked through the API", live, async () => {
  const server = await startTestServer();
  try {
    const key = await operatorKey(server, "watcher");
    const other = await events(server);
    const watched = await events(server, "/api/events", { token: key.secret });
    const revoked = await server.api(`/api/keys/${key.id}`, { method: "DELETE" });
    assert.equal(revoked.status, 200);
    await revoked.body?.cancel();
    assert.equal(await watched.ended(), true, "the revoked token's stream ended");
    const id = await submit(server, quickDag("after revocation"));
    await other.next(forDag(id));
    assert.equal(watched.events.length, 0);
    await other.close();
  } finally {
    await closeAll();
    await server.close();
  }
});

Deno.test(
  "an event stream ends when its token is revoked by another process writing the key store",
  live,
  async () => {
    const server = await startTestServer();
    try {
      const key = await operatorKey(server, "watcher");
      const watched = await events(server, "/api/events", { token: key.secret });
      // What the keys CLI does: its own connection to the same database; the server notices by polling.
      const db = openDatabase(server.dataDir, KEY_MIGRATIONS);
      const cli = new KeyStore(db);
      assert.equal(cli.revoke("watcher")?.id, key.id);
      db.close();
      assert.equal(await watched.ended(), true, "the revoked token's stream ended");
    } finally {
      await closeAll();
      await server.close();
    }
  },
);

/** Ways to resume a stream past the newest event: each must receive only what comes later, live. */
const RESUME_PAST_NEWEST: Array<[string, (newest: number) => [string, RequestInit]]> = [
  [
    "a stream opened with a Last-Event-ID beyond the newest event receives later live events",
    (newest) => ["/api/events", { headers: { "last-event-id": String(newest + 1000) } }],
  ],
  [
    "a malformed Last-Event-ID resumes from the newest event instead of replaying history",
    () => ["/api/events?lastEventId=abc", {}],
  ],
];

for (const [name, resume] of RESUME_PAST_NEWEST) {
  Deno.test(name, live, async () => {
    const server = await startTestServer();
    try {
      const first = await events(server);
      const earlier = await submit(server, quickDag("earlier"));
      const newest = (await first.next(dagEnded(earlier))).id!;
      await first.close();
      const resumed = await events(server, ...resume(newest));
      const later = await submit(server, quickDag("later"));
      const event = await resumed.next();
      assert.equal(event.data.dagId, later, "the first event is a live one of the later DAG: no history");
      assert.ok(event.id! > newest);
      await resumed.close();
    } finally {
      await closeAll();
      await server.close();
    }
  });
}

Deno.test(
  "device connections and disconnections are events in the same id sequence, replayable, and left out of ?dag= streams",
  live,
  async () => {
    const server = await startTestServer();
    const device = await RawDevice.open(server.wsUrl);
    try {
      const waiting = await submit(server, {
        name: "waits",
        nodes: [{ id: "w", kind: "server", op: { sleepMs: 3_600_000 } }],
      });
      const all = await events(server);
      const filtered = await events(server, `/api/events?dag=${waiting}`);
      await all.next(forDag(waiting));

      const { ready } = await device.handshake(server.deviceKey, "dev-1");
      const deviceId = ready.payload.deviceId;
      const online = await all.next((e) => e.event === "device");
      assert.deepEqual(
        {
          kind: online.data.kind,
          deviceId: online.data.deviceId,
          name: online.data.name,
          to: online.data.to,
        },
        { kind: "device", deviceId, name: "dev-1", to: "ready" },
      );
      assert.equal(online.data.dagId, undefined);

      await device.close();
      const offline = await all.next((e) => e.event === "device");
      assert.equal(offline.data.deviceId, deviceId);
      assert.equal(offline.data.to, "offline");
      assert.equal(offline.data.from, "ready");
      assert.equal(offline.data.reason, "connection-lost");
      assert.ok(offline.id! > online.id!);

      const cancelled = await server.api(`/api/dags/${waiting}/cancel`, { method: "POST" });
      assert.equal(cancelled.status, 200);
      const marker = await all.next((e) => forDag(waiting)(e) && e.data.kind === "dag");
      assert.ok(marker.id! > offline.id!, "DAG and device events share one increasing id sequence");

      // The filtered stream sees the cancellation (sent after both device events) and no device event.
      await filtered.next((e) => e.id === marker.id);
      assert.deepEqual(filtered.events.filter((e) => e.event === "device"), []);
      assert.ok(filtered.events.every((e) => e.data.dagId === waiting));

      const replay = await events(server, "/api/events", {
        headers: { "last-event-id": String(online.id! - 1) },
      });
      assert.deepEqual(await replay.next(), online, "Last-Event-ID replays device events too");
      assert.deepEqual(await replay.next((e) => e.event === "device"), offline);
      // The `: replayed` marker comes once everything up to the newest event was sent, and not before.
      await replay.comment("replayed");
      assert.equal(
        replay.events.at(-1)?.id,
        marker.id,
        "the replay reached the newest event before its marker",
      );
      await Promise.all([all.close(), filtered.close(), replay.close()]);
    } finally {
      await closeAll();
      await device.close();
      await server.close();
    }
  },
);

Deno.test("a device running GUI work shows busy, then ready again, as device events", live, async () => {
  const server = await startTestServer();
  const device = await RawDevice.open(server.wsUrl);
  try {
    const all = await events(server);
    const { ready } = await device.handshake(server.deviceKey, "worker");
    await all.next((e) => e.event === "device" && e.data.to === "ready");
    const id = await submit(server, {
      name: "gui",
      nodes: [{ id: "k", kind: "script", target: { device: "worker" }, steps: [{ type: "key", keys: "a" }] }],
    });
    const execute = await device.next("EXECUTE_TASK");
    const taskId = execute.payload.taskId;
    device.sendReliable("TASK_ACCEPTED", { taskId });
    const action = await device.next("ACTION_KEY");
    device.sendReliable("RESULT", { actionId: action.payload.actionId, taskId, ok: true });
    await device.next("FINISH_TASK");
    device.sendReliable("RESULT", { taskId, ok: true });
    await all.seen(dagEnded(id));
    await all.seen((e) => e.event === "device" && e.data.from === "busy" && e.data.to === "ready");
    const changes = all.events.filter((e) => e.event === "device").map((e) => [e.data.from, e.data.to]);
    assert.deepEqual(changes, [[null, "ready"], ["ready", "busy"], ["busy", "ready"]]);
    assert.ok(
      all.events.filter((e) => e.event === "device").every((e) => e.data.deviceId === ready.payload.deviceId),
    );
    await all.close();
  } finally {
    await closeAll();
    await device.close();
    await server.close();
  }
});

Deno.test(
  "open event streams end when the server shuts down, so shutting down does not wait on them",
  live,
  async () => {
    const server = await startTestServer();
    const stream = await events(server);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const stuck = new Promise<"stuck">((resolve) => timer = setTimeout(() => resolve("stuck"), 10_000));
      assert.equal(await Promise.race([server.close().then(() => "closed"), stuck]), "closed");
      assert.equal(await stream.ended(), true);
      assert.ok(stream.comments.includes("server shutting down"));
    } finally {
      clearTimeout(timer);
      await closeAll();
    }
  },
);
