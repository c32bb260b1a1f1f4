import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startClient } from "./helpers/client_process.ts";
import { submitDag, waitForDag } from "./helpers/dags.ts";
import { until } from "./helpers/gateway_harness.ts";
import { startTestServer } from "./helpers/server.ts";

const live = { sanitizeResources: false, sanitizeOps: false };
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

Deno.test(
  "run steps: refused without --allow-run, run in the files dir with it, and their output file reaches a second device intact",
  live,
  async (t) => {
    const server = await startTestServer();
    const runner = await startClient(server.wsUrl, server.deviceKey, "runner", {
      extraArgs: ["--allow-run"],
    });
    const plain = await startClient(server.wsUrl, server.deviceKey, "plain");
    const reader = await startClient(server.wsUrl, server.deviceKey, "reader");
    try {
      await until(
        () => server.gateway.devices().filter((d) => d.state === "ready").length === 3,
        "three devices",
        20_000,
      );
      const caps = (name: string) => server.gateway.device(name)!.capabilities;
      assert.equal(caps("runner").run, true, "--allow-run is advertised");
      assert.equal(caps("plain").run, false);

      await t.step("a device without --allow-run refuses with run-not-allowed", async () => {
        const id = await submitDag(server, {
          name: "refused",
          nodes: [{
            id: "r",
            kind: "script",
            target: { device: "plain" },
            steps: [{ type: "run", command: "sh", args: ["-c", "echo no > nope.txt"] }],
          }],
        });
        const view = await waitForDag(server, id, 15_000);
        assert.equal(view.state, "failed");
        assert.match(JSON.stringify(view.nodes[0].error), /run-not-allowed/);
        assert.equal(await Deno.stat(`${plain.filesDir}/nope.txt`).catch(() => null), null, "nothing ran");
      });

      await t.step("the operator API runs a program and returns its exit code and output", async () => {
        const response = await server.api("/api/devices/runner/actions", {
          method: "POST",
          body: JSON.stringify({ type: "run", command: "sh", args: ["-c", "pwd; echo oops >&2; exit 3"] }),
        });
        assert.equal(response.status, 422);
        const body = await response.json();
        assert.equal(body.error.code, "run-failed");
        assert.match(body.error.message, /exited with 3/);
        assert.ok(
          body.error.message.includes(await Deno.realPath(runner.filesDir)),
          "it ran in the files dir",
        );
        assert.match(body.error.message, /oops/);
      });

      await t.step(
        "without waitFor, a file written after the step returned is not there for the upload",
        async () => {
          const id = await submitDag(server, {
            name: "the race",
            nodes: [{
              id: "make",
              kind: "script",
              target: { device: "runner" },
              steps: [{
                type: "run",
                command: "sh",
                args: ["-c", "(sleep 0.4; echo late > late.txt) >/dev/null 2>&1 &"],
              }],
              outputs: [{ artifact: "late", file: "late.txt" }],
            }],
          });
          const view = await waitForDag(server, id, 15_000);
          assert.equal(view.state, "failed");
          assert.match(JSON.stringify(view.nodes[0].error), /late.txt does not exist/);
        },
      );

      await t.step(
        "a requirements target with a run step goes to the device that runs programs",
        async () => {
          const payload = "x".repeat(30_000) + "\nend\n";
          const id = await submitDag(server, {
            name: "produce and hand off",
            nodes: [
              {
                id: "make",
                kind: "script",
                target: { os: "linux" },
                steps: [
                  // Written in the background: the file appears after the run step returned. `waitFor` a file
                  // makes the node wait until it exists and its size is stable before outputs are uploaded.
                  {
                    type: "run",
                    command: "sh",
                    args: [
                      "-c",
                      `(sleep 0.4; mkdir -p out; printf '%s' "$0" > out/report.txt) >/dev/null 2>&1 &`,
                      payload,
                    ],
                  },
                  { type: "waitFor", file: "out/report.txt", timeoutMs: 10_000 },
                ],
                outputs: [{ artifact: "report", file: "out/report.txt" }],
              },
              {
                id: "take",
                kind: "script",
                after: ["make"],
                target: { device: "reader" },
                steps: [{ type: "wait", ms: 1 }],
                inputs: [{ artifact: "report", file: "in/report.txt" }],
              },
            ],
          });
          const view = await waitForDag(server, id, 30_000);
          assert.equal(
            view.state,
            "succeeded",
            JSON.stringify(view.nodes.map((n) => [n.id, n.state, n.error])),
          );
          assert.equal(
            view.nodes[0].device,
            server.gateway.device("runner")!.id,
            "placed where programs run",
          );
          const received = await Deno.readFile(`${reader.filesDir}/in/report.txt`);
          assert.equal(sha256(received), sha256(new TextEncoder().encode(payload)));
        },
      );
    } finally {
      await runner.stop();
      await plain.stop();
      await reader.stop();
      await server.close();
    }
  },
);
