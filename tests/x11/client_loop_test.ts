import assert from "node:assert/strict";
import { startClient } from "../helpers/client_process.ts";
import { until } from "../helpers/gateway_harness.ts";
import { decodePng } from "../helpers/png.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { pointer, ROOT_COLOUR, startXServer } from "../helpers/xvnc.ts";

import { freePort } from "../helpers/ports.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

async function readyDevice(server: TestServer) {
  let devices: Array<
    { id: string; state: string; capabilities: { screens: unknown[]; apps: string[]; input: unknown } }
  > = [];
  await until(() => devices.some((d) => d.state === "ready"), "the client to be ready", 20_000, async () => {
    devices = (await (await server.api("/api/devices")).json()).devices;
  });
  return devices.find((d) => d.state === "ready")!;
}

Deno.test(
  "full loop: operator actions over REST drive a real client on a real X display",
  live,
  async (t) => {
    const x = await startXServer();
    const dataHome = await Deno.makeTempDir({ prefix: "alien3-xdg-" });
    const marker = `${dataHome}/launched.txt`;
    await Deno.mkdir(`${dataHome}/applications`, { recursive: true });
    await Deno.writeTextFile(
      `${dataHome}/applications/alien3-marker.desktop`,
      [
        "[Desktop Entry]",
        "Type=Application",
        "Name=Alien Marker",
        `Exec=/bin/sh -c "pwd > ${marker}" %U`,
        "",
      ].join("\n"),
    );
    const port = freePort();
    const dataDir = await Deno.makeTempDir({ prefix: "alien3-loop-" });
    let server = await startTestServer(["--port", String(port)], dataDir);
    const deviceKey = server.deviceKey;
    const client = await startClient(`ws://127.0.0.1:${port}`, deviceKey, "x11-box", {
      env: { DISPLAY: x.display, XDG_DATA_HOME: dataHome },
    });
    try {
      let device = await readyDevice(server);
      const post = (body: unknown) =>
        server.api(`/api/devices/${device.id}/actions`, { method: "POST", body: JSON.stringify(body) });

      await t.step("capabilities report the real screen, input and a .desktop app the test installed", () => {
        assert.deepEqual(device.capabilities.screens, [{ width: 1280, height: 800 }]);
        assert.deepEqual(device.capabilities.input, { mouse: true, keyboard: true });
        assert.ok(device.capabilities.apps.includes("Alien Marker"), device.capabilities.apps.join(", "));
      });
      await t.step(
        "a move posted by the operator moves the real pointer; the RESULT carries its action id",
        async () => {
          const response = await post({ type: "move", x: 640, y: 321 });
          assert.equal(response.status, 200);
          const body = await response.json();
          assert.match(body.actionId, /^[0-9a-f-]{36}$/);
          assert.ok(body.timings.endedAtMs >= body.timings.startedAtMs);
          assert.deepEqual(await pointer(x), { x: 640, y: 321 });
        },
      );
      await t.step("two actions in a row get distinct action ids, in order", async () => {
        const first = await (await post({ type: "click", x: 10, y: 10 })).json();
        const second = await (await post({ type: "move", x: 20, y: 30 })).json();
        assert.notEqual(first.actionId, second.actionId);
        assert.deepEqual(await pointer(x), { x: 20, y: 30 });
      });
      await t.step("launch by name runs the app's Exec, in the device's files dir", async () => {
        const response = await post({ type: "launch", app: "Alien Marker" });
        assert.equal(response.status, 200, await response.clone().text());
        let where = "";
        await until(
          () => {
            try {
              where = Deno.readTextFileSync(marker).trim();
              return where !== "";
            } catch {
              return false;
            }
          },
          "the marker file",
          5000,
        );
        assert.equal(where, await Deno.realPath(client.filesDir), "the app started in the files dir");
      });
      await t.step("errors from the device come back with the error contract", async () => {
        const outside = await post({ type: "move", x: 4000, y: 1 });
        assert.equal(outside.status, 422);
        assert.equal((await outside.json()).error.code, "out-of-bounds");
        const unknown = await post({ type: "launch", app: "Nope Nope" });
        assert.equal((await unknown.json()).error.code, "unknown-app");
      });
      await t.step("GET /frame returns a PNG of the screen showing the root colour", async () => {
        await post({ type: "move", x: 1279, y: 799 });
        const response = await server.api(`/api/devices/${device.id}/frame?format=png`);
        assert.equal(response.status, 200);
        assert.equal(response.headers.get("content-type"), "image/png");
        assert.equal(response.headers.get("x-frame-width"), "1280");
        const png = decodePng(new Uint8Array(await response.arrayBuffer()));
        assert.deepEqual([png.width, png.height], [1280, 800]);
        assert.deepEqual(png.pixel(10, 700), [...ROOT_COLOUR.rgb]);
      });
      await t.step(
        "a script node's steps are the same action objects: the scheduler drives the real pointer",
        async () => {
          const dag = {
            name: "gui script",
            nodes: [{
              id: "drive",
              kind: "script",
              target: { input: true, apps: ["Alien Marker"] },
              steps: [{ type: "move", x: 400, y: 300 }, { type: "wait", ms: 10 }, {
                type: "click",
                x: 444,
                y: 333,
              }],
            }],
          };
          const created = await server.api("/api/dags", { method: "POST", body: JSON.stringify(dag) });
          assert.equal(created.status, 201);
          const { id } = await created.json();
          let view: { state: string; nodes: Array<{ device: string; attempts: unknown[] }> } | null = null;
          await until(() => view !== null && view.state !== "running", "the DAG to end", 15_000, async () => {
            view = await (await server.api(`/api/dags/${id}`)).json();
          });
          assert.equal(view!.state, "succeeded", JSON.stringify(view));
          assert.equal(view!.nodes[0].device, device.id);
          assert.deepEqual(await pointer(x), { x: 444, y: 333 });
        },
      );
      await t.step(
        "the server restarts; the client reconnects on its own and takes actions again",
        async () => {
          const before = device.id;
          await server.close();
          server = await startTestServer(["--port", String(port)], dataDir);
          device = await readyDevice(server);
          assert.equal(device.id, before, "same key and name: same device id");
          const response = await post({ type: "move", x: 77, y: 88 });
          assert.equal(response.status, 200);
          assert.deepEqual(await pointer(x), { x: 77, y: 88 });
        },
      );
    } finally {
      await client.stop();
      await server.close();
      await x.stop();
      await Deno.remove(dataHome, { recursive: true });
      await Deno.remove(dataDir, { recursive: true });
    }
  },
);
