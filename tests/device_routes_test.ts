import assert from "node:assert/strict";
import { encodeStreamFrame, type MessageOf } from "../shared/protocol/mod.ts";
import { waitForDag } from "./helpers/dags.ts";
import { RawDevice } from "./helpers/raw_device.ts";
import { startTestServer } from "./helpers/server.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

/** Plays the device's side of a one-move node it was sent: accept, answer the move, finish. */
async function runMoveNode(device: RawDevice, execute: MessageOf<"EXECUTE_TASK">): Promise<void> {
  const taskId = execute.payload.taskId;
  device.sendReliable("TASK_ACCEPTED", { taskId });
  const move = await device.next("ACTION_MOVE");
  device.sendReliable("RESULT", { actionId: move.payload.actionId, taskId, ok: true });
  await device.next("FINISH_TASK");
  device.sendReliable("RESULT", { taskId, ok: true });
}

Deno.test(
  "device routes take names, ping measures a round trip, and a GUI node's device refuses actions but still serves frames",
  live,
  async (t) => {
    const server = await startTestServer([], undefined, { operatorIdleMs: 300 });
    const device = await RawDevice.open(server.wsUrl);
    try {
      const deviceId = (await device.handshake(server.deviceKey, "desk-7", {
        input: { mouse: true, keyboard: true },
      })).ready.payload.deviceId;

      await t.step("GET /api/devices/:name answers like /api/devices/:id", async () => {
        const byName = await (await server.api("/api/devices/desk-7")).json();
        const byId = await (await server.api(`/api/devices/${deviceId}`)).json();
        assert.equal(byName.id, deviceId);
        assert.deepEqual(byName, byId);
      });

      await t.step("POST /api/devices/:name/ping returns the PONG's round trip", async () => {
        // The device holds its PONG for a while: the round trip the route answers must include that wait.
        const heldMs = 150;
        device.autoPong = false;
        const pending = server.api("/api/devices/desk-7/ping", { method: "POST" });
        const ping = await device.next("PING");
        await new Promise((resolve) => setTimeout(resolve, heldMs));
        device.send("PONG", { id: ping.payload.id });
        device.autoPong = true;
        const response = await pending;
        assert.equal(response.status, 200);
        const body = await response.json();
        assert.equal(body.id, deviceId);
        assert.ok(body.rttMs >= heldMs, `rtt ${body.rttMs} ms, the PONG was held ${heldMs} ms`);
      });

      await t.step(
        "while a GUI node holds the screen: actions get device-busy, a frame is served",
        async () => {
          const submitted = await server.api("/api/dags", {
            method: "POST",
            body: JSON.stringify({
              name: "hold the screen",
              nodes: [{
                id: "gui",
                kind: "script",
                target: { device: "desk-7" },
                steps: [{ type: "move", x: 1, y: 1 }],
              }],
            }),
          });
          const dagId = (await submitted.json()).id;
          const execute = await device.next("EXECUTE_TASK");
          const view = await (await server.api("/api/devices/desk-7")).json();
          assert.equal(view.state, "busy", "the device list shows the scheduler's fact");
          const action = await server.api("/api/devices/desk-7/actions", {
            method: "POST",
            body: JSON.stringify({ type: "move", x: 5, y: 5 }),
          });
          assert.equal(action.status, 409);
          assert.equal((await action.json()).error.code, "device-busy");
          const framePending = server.api("/api/devices/desk-7/frame?format=png");
          const request = await device.next("REQUEST_FRAME");
          const image = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 9]);
          device.send(
            "STREAM_FRAME",
            encodeStreamFrame({
              actionId: request.payload.actionId,
              format: "png",
              width: 2,
              height: 2,
              originalWidth: 2,
              originalHeight: 2,
              capturedAtMs: Date.now(),
            }, image),
          );
          device.sendReliable("RESULT", { actionId: request.payload.actionId, ok: true });
          const frame = await framePending;
          assert.equal(frame.status, 200);
          assert.deepEqual(new Uint8Array(await frame.arrayBuffer()), image);
          await runMoveNode(device, execute);
          assert.equal((await waitForDag(server, dagId, 5000)).state, "succeeded");
          const after = await (await server.api("/api/devices/desk-7")).json();
          assert.equal(after.state, "ready", "ready again once the node ended");
        },
      );

      await t.step(
        "an operator's action keeps GUI nodes off the device until it has been idle a while",
        async () => {
          const pending = server.api("/api/devices/desk-7/actions", {
            method: "POST",
            body: JSON.stringify({ type: "move", x: 7, y: 7 }),
          });
          const move = await device.next("ACTION_MOVE");
          device.sendReliable("RESULT", { actionId: move.payload.actionId, ok: true });
          assert.equal((await pending).status, 200);
          const submitted = await server.api("/api/dags", {
            method: "POST",
            body: JSON.stringify({
              name: "after the operator",
              nodes: [{
                id: "gui",
                kind: "script",
                target: { device: "desk-7" },
                steps: [{ type: "move", x: 2, y: 2 }],
              }],
            }),
          });
          const dagId = (await submitted.json()).id;
          const waiting = await (await server.api(`/api/dags/${dagId}`)).json();
          assert.equal(waiting.nodes[0].state, "waiting", "placement keeps off a device an operator drives");
          await runMoveNode(device, await device.next("EXECUTE_TASK"));
          assert.equal((await waitForDag(server, dagId, 5000)).state, "succeeded");
        },
      );
    } finally {
      await device.close();
      await server.close();
    }
  },
);
