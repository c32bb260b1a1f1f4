import assert from "node:assert/strict";
import { startClient } from "../helpers/client_process.ts";
import { submitDag, waitForDag } from "../helpers/dags.ts";
import { until } from "../helpers/gateway_harness.ts";
import { startTestServer } from "../helpers/server.ts";
import { startXServer } from "../helpers/xvnc.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "the seed's hand-off on a real desktop: a command typed into a terminal writes the report late, waitFor file holds the node until it is there, and device B receives it",
  live,
  async () => {
    const x = await startXServer();
    const server = await startTestServer();
    const a = await startClient(server.wsUrl, server.deviceKey, "desk-a", { env: { DISPLAY: x.display } });
    const b = await startClient(server.wsUrl, server.deviceKey, "box-b");
    // A terminal on A's screen, working in A's files directory (as an operator's terminal would be).
    const terminal = new Deno.Command("xterm", {
      args: ["-geometry", "100x20+0+0", "-fa", "Monospace", "-fs", "12"],
      cwd: a.filesDir,
      env: { DISPLAY: x.display },
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      await until(
        () => ["desk-a", "box-b"].every((name) => server.gateway.device(name)?.state === "ready"),
        "both devices",
        20_000,
      );
      const id = await submitDag(server, {
        name: "report hand-off",
        nodes: [
          {
            id: "download",
            kind: "script",
            target: { device: "desk-a" },
            steps: [
              { type: "waitFor", window: "xterm", timeoutMs: 15_000 },
              { type: "click", x: 200, y: 100 },
              // The report appears a second after the command is typed: the node must not end before it.
              { type: "type", text: "sleep 1; echo quarterly > report.txt" },
              { type: "key", keys: "enter" },
              { type: "waitFor", file: "report.txt", timeoutMs: 15_000 },
            ],
            outputs: [{ artifact: "report", file: "report.txt" }],
          },
          {
            id: "upload",
            kind: "script",
            after: ["download"],
            target: { device: "box-b" },
            steps: [{ type: "wait", ms: 1 }],
            inputs: [{ artifact: "report", file: "incoming/report.txt" }],
          },
        ],
      });
      const view = await waitForDag(server, id, 30_000);
      assert.equal(view.state, "succeeded", JSON.stringify(view.nodes.map((n) => [n.id, n.state, n.error])));
      assert.equal(await Deno.readTextFile(`${b.filesDir}/incoming/report.txt`), "quarterly\n");
    } finally {
      try {
        terminal.kill();
      } catch {
        // Gone.
      }
      await terminal.status;
      await a.stop();
      await b.stop();
      await server.close();
      await x.stop();
    }
  },
);
