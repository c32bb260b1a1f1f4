/**
 * The step log end to end: a device answers a script node of two steps (a move, then a frame whose
 * STREAM_FRAME carries a real JPEG); the steps are served by REST with the frame scaled to 1280 px, are
 * `step` events on /api/events, and stay readable once the DAG is archived and the server restarted.
 */
import assert from "node:assert/strict";
import sharp from "sharp";
import { encodeStreamFrame } from "../shared/protocol/mod.ts";
import { submitDag, waitForDag } from "./helpers/dags.ts";
import { until } from "./helpers/gateway_harness.ts";
import { RawDevice } from "./helpers/raw_device.ts";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { type SseEvent, SseStream } from "./helpers/sse.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

const CAPTURE = { width: 1600, height: 1000 };

/** A real 1600×1000 JPEG, as a device would capture it. */
async function capture(): Promise<Uint8Array> {
  const image = await sharp({
    create: { ...CAPTURE, channels: 3, background: { r: 10, g: 120, b: 60 } },
  }).jpeg({ quality: 85 }).toBuffer();
  return new Uint8Array(image);
}

/** Plays the device's side of one attempt: accept, answer the move and the frame, finish. */
async function answerLookNode(device: RawDevice, image: Uint8Array): Promise<void> {
  const execute = await device.next("EXECUTE_TASK");
  const taskId = execute.payload.taskId;
  device.sendReliable("TASK_ACCEPTED", { taskId });
  const move = await device.next("ACTION_MOVE");
  device.sendReliable("RESULT", { actionId: move.payload.actionId, taskId, ok: true });
  const request = await device.next("REQUEST_FRAME");
  device.send(
    "STREAM_FRAME",
    encodeStreamFrame({
      actionId: request.payload.actionId,
      format: "jpeg",
      ...CAPTURE,
      originalWidth: CAPTURE.width,
      originalHeight: CAPTURE.height,
      capturedAtMs: Date.now(),
    }, image),
  );
  device.sendReliable("RESULT", {
    actionId: request.payload.actionId,
    taskId,
    ok: true,
    output: { width: CAPTURE.width, height: CAPTURE.height },
  });
  await device.next("FINISH_TASK");
  device.sendReliable("RESULT", { taskId, ok: true });
}

const LOOK_DAG = {
  name: "look",
  nodes: [{
    id: "look",
    kind: "script",
    target: { device: "eye" },
    steps: [{ type: "move", x: 3, y: 4 }, { type: "frame", format: "jpeg" }],
  }],
};

/** The LOOK_DAG node's two steps as GET …/steps serves them, times zeroed. */
const lookSteps = (dagId: string) => [{
  attempt: 1,
  index: 0,
  type: "move",
  args: { x: 3, y: 4 },
  startedAt: 0,
  endedAt: 0,
  ok: true,
  error: null,
  output: null,
  frame: null,
}, {
  attempt: 1,
  index: 1,
  type: "frame",
  args: { format: "jpeg", scale: 1, quality: 80 },
  startedAt: 0,
  endedAt: 0,
  ok: true,
  error: null,
  output: { width: 1600, height: 1000 },
  frame: `/api/dags/${dagId}/nodes/look/steps/1/1/frame`,
}];

const zeroTimes = (step: Record<string, unknown>) => ({ ...step, startedAt: 0, endedAt: 0 });

async function errorCode(response: Response): Promise<[number, string]> {
  return [response.status, (await response.json()).error.code];
}

async function openEvents(server: TestServer, path: string): Promise<SseStream> {
  const stream = new SseStream(await server.api(path));
  await stream.comment("connected");
  return stream;
}

Deno.test(
  "a node's steps are served with the frame its frame step captured, scaled to 1280 px, also once archived and after a restart",
  live,
  async (t) => {
    const dataDir = await Deno.makeTempDir({ prefix: "alien3-steplog-e2e-" });
    let server = await startTestServer([], dataDir);
    const device = await RawDevice.open(server.wsUrl);
    try {
      await device.handshake(server.deviceKey, "eye", { input: { mouse: true, keyboard: true } });
      const dagId = await submitDag(server, LOOK_DAG);
      await answerLookNode(device, await capture());
      assert.equal((await waitForDag(server, dagId, 5000)).state, "succeeded");
      const stepsPath = `/api/dags/${dagId}/nodes/look/steps`;
      let listed: Array<Record<string, unknown>> = [];

      await t.step(
        "GET …/steps lists both steps with the exact fields, the frame step linking its image",
        async () => {
          const response = await server.api(stepsPath);
          assert.equal(response.status, 200);
          listed = (await response.json()).steps;
          assert.deepEqual(listed.map(zeroTimes), lookSteps(dagId));
          for (const step of listed) {
            assert.ok(typeof step.startedAt === "number" && (step.endedAt as number) >= step.startedAt);
          }
        },
      );

      const download = async () => {
        const response = await server.api(listed[1].frame as string);
        assert.equal(response.status, 200);
        assert.equal(response.headers.get("content-type"), "image/jpeg");
        return await sharp(new Uint8Array(await response.arrayBuffer())).metadata();
      };

      await t.step(
        "the frame downloads as a JPEG scaled to 1280×800, with the operator token only",
        async () => {
          const meta = await download();
          assert.deepEqual([meta.format, meta.width, meta.height], ["jpeg", 1280, 800]);
          const anonymous = await server.api(listed[1].frame as string, { token: null });
          assert.equal(anonymous.status, 401);
          await anonymous.body?.cancel();
          const asDevice = await server.api(listed[1].frame as string, { token: server.deviceKey });
          assert.equal(asDevice.status, 403);
          await asDevice.body?.cancel();
        },
      );

      await t.step("unknown DAG, unknown node and a step without a frame are coded 404s", async () => {
        assert.deepEqual(await errorCode(await server.api("/api/dags/nope/nodes/look/steps")), [
          404,
          "unknown-dag",
        ]);
        assert.deepEqual(await errorCode(await server.api(`/api/dags/${dagId}/nodes/nope/steps`)), [
          404,
          "unknown-dag-node",
        ]);
        assert.deepEqual(await errorCode(await server.api(`${stepsPath}/1/0/frame`)), [404, "unknown-frame"]);
        assert.deepEqual(await errorCode(await server.api(`${stepsPath}/1/x/frame`)), [404, "unknown-frame"]);
        assert.deepEqual(await errorCode(await server.api(`/api/dags/${dagId}/nodes/nope/steps/1/1/frame`)), [
          404,
          "unknown-dag-node",
        ]);
      });

      await t.step("an archived DAG keeps its steps and frame, also after a restart", async () => {
        assert.ok(server.orion.snapshot());
        assert.equal(server.orion.state.dags[dagId], undefined, "the DAG left the live state");
        assert.deepEqual((await (await server.api(stepsPath)).json()).steps, listed);
        assert.equal((await download()).width, 1280);
        await device.close();
        await server.close();
        server = await startTestServer([], dataDir);
        assert.deepEqual((await (await server.api(stepsPath)).json()).steps, listed);
        assert.equal((await download()).width, 1280);
      });
    } finally {
      await device.close();
      await server.close();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
);

Deno.test(
  "each step is an 'event: step' with its DAG id on /api/events and on ?dag= streams, before the node ends",
  live,
  async () => {
    const server = await startTestServer();
    const device = await RawDevice.open(server.wsUrl);
    const streams: SseStream[] = [];
    try {
      await device.handshake(server.deviceKey, "eye", { input: { mouse: true, keyboard: true } });
      const all = await openEvents(server, "/api/events");
      streams.push(all);
      const dagId = await submitDag(server, LOOK_DAG);
      const filtered = await openEvents(server, `/api/events?dag=${dagId}`);
      streams.push(filtered);
      await answerLookNode(device, await capture());
      const nodeEnded = (e: SseEvent) =>
        e.event === "transition" && e.data.kind === "node" && e.data.to === "succeeded";
      for (const stream of [all, filtered]) {
        const ended = await stream.seen(nodeEnded);
        const steps = stream.events.filter((e) => e.event === "step");
        assert.deepEqual(steps.map((e) => [e.data.dagId, e.data.nodeId, e.data.index, e.data.type]), [
          [dagId, "look", 0, "move"],
          [dagId, "look", 1, "frame"],
        ]);
        assert.ok(steps.every((e) => e.id! < ended.id!), "steps come before the node's end");
        assert.deepEqual(
          steps.map((e) => ({ ...zeroTimes(e.data), id: 0, atMs: 0 })),
          lookSteps(dagId).map((step) => ({ id: 0, dagId, atMs: 0, kind: "step", nodeId: "look", ...step })),
          "each step event is its REST row with the DAG, node and event id",
        );
        assert.ok(steps.every((e) => e.data.id === e.id && e.data.atMs === e.data.endedAt));
      }
      const replay = await openEvents(server, `/api/events?dag=${dagId}&lastEventId=0`);
      streams.push(replay);
      await replay.seen(nodeEnded);
      assert.deepEqual(
        replay.events.filter((e) => e.event === "step").map((e) => e.id),
        all.events.filter((e) => e.event === "step").map((e) => e.id),
        "steps replay from the log",
      );
    } finally {
      await Promise.all(streams.map((s) => s.close()));
      await device.close();
      await server.close();
    }
  },
);

Deno.test(
  "a step row the store refuses does not fail the node: the DAG succeeds, the store reports read-only, then recovers",
  live,
  async () => {
    const logged: string[] = [];
    const log = {
      info: (message: string) => void logged.push(message),
      warn: (message: string) => void logged.push(message),
      error: (message: string) => void logged.push(message),
    };
    const server = await startTestServer([], undefined, { storeRetryMaxMs: 50, log });
    const device = await RawDevice.open(server.wsUrl);
    try {
      await device.handshake(server.deviceKey, "eye", { input: { mouse: true, keyboard: true } });
      // What a full disk looks like to the step log's INSERT, and only to it.
      server.db.exec(`CREATE TRIGGER refuse_steps BEFORE INSERT ON step_log BEGIN
        SELECT RAISE(FAIL, 'database or disk is full'); END;`);
      const dagId = await submitDag(server, LOOK_DAG);
      await answerLookNode(device, await capture());
      assert.equal((await waitForDag(server, dagId, 5000)).state, "succeeded");
      assert.deepEqual((await (await server.api(`/api/dags/${dagId}/nodes/look/steps`)).json()).steps, []);
      assert.equal(
        await Array.fromAsync(Deno.readDir(server.dataDir)).then((e) => e.some((f) => f.name === "frames")),
        false,
        "no frame file for a step that was not stored",
      );
      assert.ok(
        logged.some((m) => m.startsWith("Cannot log a step: the store refused it")),
        logged.join("; "),
      );
      assert.ok(
        logged.some((m) => m.startsWith("Store is read-only")),
        "the store's health took the refusal",
      );
      // Its retry probe finds that writes work again.
      let health: Record<string, unknown> = {};
      await until(() => health.status === "ok", "the store to take writes again", 5000, async () => {
        health = await (await fetch(`${server.url}/healthz`)).json();
      });
    } finally {
      await device.close();
      await server.close();
    }
  },
);
