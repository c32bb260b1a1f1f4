/**
 * The DAGs in examples/ run as written (their `$schema` key included) on a real server with two real
 * clients named as the examples name them, `device-a` and `device-b`. The GUI example is in
 * tests/x11/example_gui_test.ts.
 */
import assert from "node:assert/strict";
import { startClient } from "./helpers/client_process.ts";
import { type DagView, submitDag, waitForDag } from "./helpers/dags.ts";
import { until } from "./helpers/gateway_harness.ts";
import { startTestServer, type TestServer } from "./helpers/server.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

/** An example DAG exactly as the repository has it. */
export async function readExample(name: string): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(new URL(`../examples/${name}`, import.meta.url)));
}

async function artifactText(server: TestServer, dagId: string, name: string): Promise<string> {
  const response = await server.api(`/api/dags/${dagId}/artifacts/${name}`);
  assert.equal(response.status, 200, `artifact ${name}`);
  return await response.text();
}

function nodeOf(view: DagView, id: string) {
  const node = view.nodes.find((n) => n.id === id);
  assert.ok(node, `node ${id}`);
  return node;
}

const summary = (view: DagView) =>
  JSON.stringify(view.nodes.map((n) => [n.id, n.state, n.attempts.map((a) => a.code ?? a.outcome)]));

Deno.test(
  "the examples run as written on two real devices named device-a and device-b",
  live,
  async (t) => {
    const server = await startTestServer();
    const a = await startClient(server.wsUrl, server.deviceKey, "device-a", { extraArgs: ["--allow-run"] });
    const b = await startClient(server.wsUrl, server.deviceKey, "device-b", { extraArgs: ["--allow-run"] });
    try {
      await until(
        () => ["device-a", "device-b"].every((name) => server.gateway.device(name)?.state === "ready"),
        "both devices",
        20_000,
      );

      await t.step("handoff.json: A's report reaches B through the server's waitFor", async () => {
        const example = await readExample("handoff.json");
        assert.equal(example.$schema, "./dag.schema.json");
        const id = await submitDag(server, example);
        const view = await waitForDag(server, id, 60_000);
        assert.equal(view.state, "succeeded", summary(view));
        assert.equal(await Deno.readTextFile(`${b.filesDir}/incoming/report.txt`), "quarterly report\n");
        assert.equal(await artifactText(server, id, "report"), "quarterly report\n");
        const deviceA = server.gateway.device("device-a")!.id;
        const deviceB = server.gateway.device("device-b")!.id;
        assert.deepEqual(
          ["download", "arrived", "upload"].map((n) => nodeOf(view, n).device),
          [deviceA, null, deviceB],
          "A downloads, the server waits, B receives",
        );
        const steps = (await (await server.api(`/api/dags/${id}/nodes/upload/steps`)).json()).steps;
        assert.equal(steps[0].output.exists, true, "B's own look at the file it received");
      });

      await t.step(
        "fan_out_fan_in.json: three parts run in parallel on both devices, one join takes all",
        async () => {
          const id = await submitDag(server, await readExample("fan_out_fan_in.json"));
          const view = await waitForDag(server, id, 60_000);
          assert.equal(view.state, "succeeded", summary(view));
          assert.equal(await artifactText(server, id, "joined"), "ALPHA\nBRAVO\nCHARLIE\n");
          const parts = ["part-1", "part-2", "part-3"].map((n) => nodeOf(view, n).attempts[0]);
          const devices = new Set(parts.map((attempt) => attempt.deviceId));
          assert.equal(devices.size, 2, "the requirements target lets the parts spread over both devices");
          const lastAssigned = Math.max(...parts.map((p) => p.assignedAtMs));
          const firstEnd = Math.min(...parts.map((p) => p.endedAtMs!));
          assert.ok(lastAssigned <= firstEnd, "the parts were placed together, not one after another");
          const join = nodeOf(view, "join").attempts[0];
          assert.ok(join.startedAtMs! >= Math.max(...parts.map((p) => p.endedAtMs!)), "join waits for all");
        },
      );

      await t.step(
        "retries_and_timeouts.json: a hung program ends at its step timeoutMs and is retried after the backoff; a hung attempt ends at the node timeoutMs; both retries succeed",
        async () => {
          const example = await readExample("retries_and_timeouts.json");
          const id = await submitDag(server, example);
          const view = await waitForDag(server, id, 60_000);
          assert.equal(view.state, "succeeded", summary(view));

          const step = nodeOf(view, "step-timeout").attempts;
          assert.deepEqual(step.map((a) => a.code ?? a.outcome), ["timeout", "succeeded"]);
          // Not before its 2000 ms (a program left to hang would keep the DAG from ending at all).
          const stepRanMs = step[0].endedAtMs! - step[0].startedAtMs!;
          assert.ok(stepRanMs >= 2000, `the program was killed after ${stepRanMs} ms; 2000`);
          assert.match(String(step[0].reason), /sh ran past 2000 ms/, "the step's own timeout ended it");
          const pauseMs = step[1].assignedAtMs - step[0].endedAtMs!;
          assert.ok(pauseMs >= 1000, `retried ${pauseMs} ms after the failure; backoffMs is 1000`);

          const node = nodeOf(view, "node-timeout").attempts;
          assert.deepEqual(node.map((a) => a.code ?? a.outcome), ["timeout", "succeeded"]);
          assert.match(String(node[0].reason), /passed its 3000 ms timeout/, "the node's deadline ended it");
          const ranMs = node[0].endedAtMs! - node[0].assignedAtMs;
          assert.ok(ranMs >= 3000, `the hung attempt ended after ${ranMs} ms; timeoutMs 3000`);
          const steps = (await (await server.api(`/api/dags/${id}/nodes/node-timeout/steps`)).json()).steps;
          const last = steps.at(-1);
          assert.deepEqual([last.attempt, last.ok, last.output.stdout], [2, true, "done at once\n"]);
        },
      );
    } finally {
      await a.stop();
      await b.stop();
      await server.close();
    }
  },
);
