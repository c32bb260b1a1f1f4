/** The server is SIGKILLed mid-DAG and started again on the same data dir: the DAG resumes and ends well. */
import assert from "node:assert/strict";
import { startClient } from "./helpers/client_process.ts";
import { until } from "./helpers/gateway_harness.ts";
import { freePort } from "./helpers/ports.ts";
import { runServer, seedKeys, type ServerRun, stopServer } from "./helpers/server_process.ts";

const live = { sanitizeResources: false, sanitizeOps: false };
/** The server on `port` and `dataDir`, up: how the test starts it, and starts it again after the crash. */
async function startServer(port: number, dataDir: string): Promise<ServerRun & { up: true }> {
  const run = await runServer(dataDir, { port, extraArgs: ["--log", "silent", "--resume-grace-ms", "1000"] });
  if (!run.up) throw new Error(`the server exited with ${run.code}:\n${run.stderr}`);
  return run;
}

Deno.test(
  "SIGKILL mid-DAG, restart: the DAG resumes, the in-flight attempt is retried, history is intact",
  live,
  async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "alien3-restart-" });
    const { operator, device: deviceKey } = seedKeys(dataDir);
    const port = freePort();
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`http://127.0.0.1:${port}${path}`, { ...init, headers: { authorization: `Bearer ${operator}` } });
    let server = await startServer(port, dataDir);
    const client = await startClient(`ws://127.0.0.1:${port}`, deviceKey, "worker");
    try {
      let devices: Array<{ state: string }> = [];
      await until(() => devices.some((d) => d.state === "ready"), "the client to join", 15_000, async () => {
        devices = (await (await api("/api/devices")).json()).devices;
      });
      const dag = {
        name: "survives a crash",
        nodes: [
          {
            id: "long",
            kind: "script",
            target: { device: "worker" },
            steps: [{ type: "wait", ms: 4000 }],
            retry: { attempts: 2, backoffMs: 0 },
          },
          { id: "pause", kind: "server", after: ["long"], op: { sleepMs: 10 } },
          {
            id: "last",
            kind: "script",
            after: ["pause"],
            target: { device: "worker" },
            steps: [{ type: "wait", ms: 10 }],
          },
        ],
      };
      const { id } = await (await api("/api/dags", { method: "POST", body: JSON.stringify(dag) })).json();
      type View = {
        state: string;
        nodes: Array<{ id: string; state: string; attempts: Array<{ code?: string; outcome: string }> }>;
      };
      let view: View | null = null;
      await until(() => view?.nodes[0].state === "running", "the long node to run", 15_000, async () => {
        view = await (await api(`/api/dags/${id}`)).json();
      });
      const eventsBefore = await readEvents(api, 0);
      await stopServer(server, "SIGKILL");

      server = await startServer(port, dataDir);
      await until(
        () => view?.state === "succeeded" || view?.state === "failed",
        "the DAG to end",
        40_000,
        async () => {
          view = await (await api(`/api/dags/${id}`)).json();
        },
      );
      assert.equal(view!.state, "succeeded", JSON.stringify(view));
      const long = view!.nodes[0];
      assert.deepEqual(long.attempts.map((a) => [a.outcome, a.code ?? null]), [["failed", "server-restart"], [
        "succeeded",
        null,
      ]]);
      assert.deepEqual(view!.nodes.map((n) => n.state), ["succeeded", "succeeded", "succeeded"]);
      const eventsAfter = await readEvents(api, 0);
      assert.deepEqual(
        eventsAfter.slice(0, eventsBefore.length),
        eventsBefore,
        "the history before the crash is intact",
      );
      assert.ok(eventsAfter.length > eventsBefore.length);
      const ids = eventsAfter.map((e) => e.id as number);
      assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
      const later = await readEvents(api, ids[ids.length - 3]);
      assert.deepEqual(
        later.map((e) => e.id),
        ids.slice(-2),
        "Last-Event-ID replays exactly what came after",
      );
    } finally {
      await client.stop();
      await stopServer(server);
      await Deno.remove(dataDir, { recursive: true });
    }
  },
);

/** Reads the SSE replay after `lastEventId` up to the server's `: replayed` marker. */
async function readEvents(
  api: (path: string) => Promise<Response>,
  lastEventId: number,
): Promise<Array<Record<string, unknown>>> {
  const response = await api(`/api/events?lastEventId=${lastEventId}`);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!text.includes("\n: replayed\n")) {
    const chunk = await reader.read();
    if (chunk.done) throw new Error(`the stream ended before its replay marker: ${text}`);
    text += decoder.decode(chunk.value, { stream: true });
  }
  await reader.cancel();
  const replay = text.slice(0, text.indexOf("\n: replayed\n"));
  return replay.split("\n").filter((l) => l.startsWith("data: ")).map((l) => JSON.parse(l.slice(6)));
}
