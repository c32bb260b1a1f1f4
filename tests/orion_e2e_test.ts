import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startClient } from "./helpers/client_process.ts";
import { startTestServer } from "./helpers/server.ts";
import { until } from "./helpers/gateway_harness.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

function seedDag(deviceA: string, deviceB: string) {
  return {
    name: "report hand-off",
    nodes: [
      {
        id: "download",
        kind: "script",
        target: { device: deviceA },
        steps: [{ type: "wait", ms: 50 }],
        outputs: [{ artifact: "report", file: "report.pdf" }],
      },
      { id: "arrived", kind: "server", after: ["download"], op: { waitFor: "report" } },
      {
        id: "upload",
        kind: "script",
        after: ["arrived"],
        target: { device: deviceB },
        inputs: [{ artifact: "report", file: "incoming/report.pdf" }],
        steps: [{ type: "wait", ms: 50 }],
        timeoutMs: 60000,
        retry: { attempts: 3, backoffMs: 500 },
      },
    ],
  };
}

Deno.test(
  "seed example end to end: a 1 MiB report moves A → server → B, verified, and B never starts before A succeeded",
  live,
  async () => {
    const server = await startTestServer();
    const a = await startClient(server.wsUrl, server.deviceKey, "A");
    const b = await startClient(server.wsUrl, server.deviceKey, "B");
    try {
      const bytes = new Uint8Array(1024 * 1024);
      for (let at = 0; at < bytes.length; at += 65536) crypto.getRandomValues(bytes.subarray(at, at + 65536));
      await Deno.writeFile(`${a.filesDir}/report.pdf`, bytes);
      const sha256 = createHash("sha256").update(bytes).digest("hex");
      await until(
        () => server.gateway.devices().filter((d) => d.state === "ready").length === 2,
        "both devices",
        15_000,
      );

      const created = await server.api("/api/dags", {
        method: "POST",
        body: JSON.stringify(seedDag("A", "B")),
      });
      assert.equal(created.status, 201);
      const { id, state } = await created.json();
      assert.equal(state, "running");
      let dag: {
        state: string;
        nodes: Array<{ id: string; state: string; device: string; attempts: unknown[] }>;
      } | null = null;
      await until(
        () => dag?.state === "succeeded" || dag?.state === "failed",
        "the DAG to end",
        30_000,
        async () => {
          dag = await (await server.api(`/api/dags/${id}`)).json();
        },
      );
      assert.equal(dag!.state, "succeeded", JSON.stringify(dag));
      const received = await Deno.readFile(`${b.filesDir}/incoming/report.pdf`);
      assert.equal(createHash("sha256").update(received).digest("hex"), sha256, "B got the same bytes");
      const download = await server.api(`/api/dags/${id}/artifacts/report`);
      assert.equal(download.headers.get("x-sha256"), sha256);
      assert.equal((await download.arrayBuffer()).byteLength, bytes.byteLength);

      const history = (await server.api(`/api/events?dag=${id}`)).body!.getReader();
      const text = await readUntil(history, /"kind":"dag","from":"running","to":"succeeded"/);
      const events = text.split("\n").filter((l) => l.startsWith("data: ")).map((l) =>
        JSON.parse(l.slice(6))
      );
      const downloadDone = events.find((e) => e.nodeId === "download" && e.to === "succeeded");
      const uploadAssigned = events.find((e) => e.nodeId === "upload" && e.to === "assigned");
      assert.ok(downloadDone && uploadAssigned, "both transitions are in the history");
      assert.ok(uploadAssigned.id > downloadDone.id, "upload was assigned only after download succeeded");
      assert.ok(uploadAssigned.atMs >= downloadDone.atMs);
      const ids = events.map((e) => e.id);
      assert.deepEqual(ids, [...ids].sort((x, y) => x - y), "event ids increase");
    } finally {
      await a.stop();
      await b.stop();
      await server.close();
    }
  },
);

/** Reads an SSE stream until `done` matches what was read (or 10 s pass). */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, done: RegExp): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  const deadline = Date.now() + 10_000;
  while (!done.test(text) && Date.now() < deadline) {
    const { value, done: ended } = await reader.read();
    if (ended) break;
    text += decoder.decode(value);
  }
  await reader.cancel();
  return text;
}
