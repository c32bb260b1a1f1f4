/**
 * Group commit under load, killed: a wide DAG runs on devices that answer at once (so each turn commits a
 * batch of inputs), an SSE client watches, and the server is SIGKILLed in the middle. After a restart on the
 * same data dir, every event the client was shown is in the store exactly as shown, and the DAG's state
 * agrees with it: nothing was published before the commit that covers it.
 */
import assert from "node:assert/strict";
import { RawDevice, testCapabilities } from "./helpers/raw_device.ts";
import { runServer, seedKeys, stopServer } from "./helpers/server_process.ts";
import { type SseEvent, SseStream } from "./helpers/sse.ts";

const live = { sanitizeResources: false, sanitizeOps: false };
const NODES = 600;
const DEVICES = 8;

Deno.test(
  "SIGKILL while turns commit in batches: every event a client was shown is stored as shown, and replays",
  live,
  async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "alien3-group-kill-" });
    const { operator, device: deviceKey } = seedKeys(dataDir);
    let server = await runServer(dataDir, {
      extraArgs: ["--log", "silent", "--max-messages-per-second", "1000000"],
    });
    assert.ok(server.up);
    const url = server.url;
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${url}${path}`, { ...init, headers: { authorization: `Bearer ${operator}` } });
    const devices: RawDevice[] = [];
    let watcher: SseStream | null = null;
    try {
      for (let i = 0; i < DEVICES; i++) {
        const device = await RawDevice.open(`ws://127.0.0.1:${server.port}/v1/device`);
        await device.connect(deviceKey);
        device.send("REGISTER_CAPABILITIES", { ...testCapabilities(`d${i}`), tags: ["w"], maxTasks: 64 });
        await device.next("READY");
        device.onMessage = () => {
          for (const message of device.received.splice(0)) {
            if (message.type === "EXECUTE_TASK") {
              device.sendReliable("TASK_ACCEPTED", { taskId: message.payload.taskId });
            } else if (message.type === "FINISH_TASK") {
              device.sendReliable("RESULT", { taskId: message.payload.taskId, ok: true });
            }
          }
        };
        devices.push(device);
      }
      watcher = new SseStream(await api("/api/events"));
      const nodes = Array.from({ length: NODES }, (_, i) => ({
        id: `n${i}`,
        kind: "script",
        target: { tags: ["w"] },
        steps: [],
      }));
      const submitted = await api("/api/dags", {
        method: "POST",
        body: JSON.stringify({ name: "killed", nodes }),
      });
      assert.equal(submitted.status, 201);
      const { id } = await submitted.json();
      // Mid-run: some nodes succeeded, most have not.
      const succeeded = (e: SseEvent) => e.data.kind === "node" && e.data.to === "succeeded";
      for (let done = 0; done < NODES / 4;) if (succeeded(await watcher.next())) done++;
      assert.equal(await stopServer(server, "SIGKILL"), 137);
      await watcher.ended(5000);
      const shown = watcher.events.filter((e) => e.id !== null);
      assert.ok(shown.length > NODES / 2, `${shown.length} events shown before the kill`);

      server = await runServer(dataDir, { port: server.port, extraArgs: ["--log", "silent"] });
      assert.ok(server.up, "the store replays after the kill");
      const replay = new SseStream(await api("/api/events"));
      try {
        const last = shown.at(-1)!.id!;
        await replay.seen((e) => e.id !== null && e.id >= last);
        const stored = new Map(replay.events.map((e) => [e.id, e]));
        for (const event of shown) {
          assert.deepEqual(stored.get(event.id), event, `event ${event.id} as shown`);
        }
      } finally {
        await replay.close();
      }
      const view = await (await api(`/api/dags/${id}`)).json() as {
        nodes: Array<{ id: string; state: string }>;
      };
      const state = new Map(view.nodes.map((n) => [n.id, n.state]));
      for (const event of shown.filter(succeeded)) {
        assert.equal(
          state.get(event.data.nodeId as string),
          "succeeded",
          `${event.data.nodeId} stays succeeded`,
        );
      }
    } finally {
      await watcher?.close();
      await Promise.all(devices.map((d) => d.close().catch(() => {})));
      await stopServer(server, "SIGKILL");
      await Deno.remove(dataDir, { recursive: true });
    }
  },
);
