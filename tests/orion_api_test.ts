import assert from "node:assert/strict";
import { RawDevice, testCapabilities } from "./helpers/raw_device.ts";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { until } from "./helpers/gateway_harness.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

type DagView = {
  state: string;
  nodes: Array<
    {
      id: string;
      state: string;
      device: string | null;
      attempts: Array<{ code?: string; deviceId: string }>;
      error: { code: string } | null;
      reason: string | null;
    }
  >;
  metrics: { attempts: Record<string, number>; parallelism: number; criticalPath: { nodes: string[] } };
};

async function submit(server: TestServer, dag: unknown): Promise<string> {
  const response = await server.api("/api/dags", { method: "POST", body: JSON.stringify(dag) });
  assert.equal(response.status, 201, await response.clone().text());
  return (await response.json()).id;
}

async function view(server: TestServer, id: string): Promise<DagView> {
  return await (await server.api(`/api/dags/${id}`)).json();
}

/** A raw device that runs scripted answers for every task it gets; returns the task ids it saw. */
function worker(device: RawDevice, answer: (taskId: string) => "ok" | "fail" | "hang"): string[] {
  const tasks: string[] = [];
  const loop = async () => {
    while (device.closeCode === null) {
      const execute = await device.next("EXECUTE_TASK", 60_000).catch(() => null);
      if (execute === null) return;
      tasks.push(execute.payload.taskId);
      const verdict = answer(execute.payload.taskId);
      if (verdict === "hang") continue;
      device.sendReliable("TASK_ACCEPTED", { taskId: execute.payload.taskId });
      await device.next("FINISH_TASK").catch(() => null);
      if (verdict === "fail") {
        const error = {
          code: "action-failed" as const,
          message: "Cannot execute action: it failed on the device",
          retryable: false,
        };
        device.sendReliable("RESULT", { taskId: execute.payload.taskId, ok: false, error });
      } else {
        device.sendReliable("RESULT", { taskId: execute.payload.taskId, ok: true });
      }
    }
  };
  void loop();
  return tasks;
}

Deno.test(
  "malformed DAGs are refused with the node and rule named; without a model, agent nodes get no-llm-configured",
  live,
  async () => {
    const server = await startTestServer();
    try {
      const cyclic = {
        name: "c",
        nodes: [
          { id: "a", kind: "server", after: ["b"], op: { sleepMs: 1 } },
          { id: "b", kind: "server", after: ["a"], op: { sleepMs: 1 } },
        ],
      };
      const response = await server.api("/api/dags", { method: "POST", body: JSON.stringify(cyclic) });
      assert.equal(response.status, 400);
      const body = await response.json();
      assert.equal(body.error.code, "cycle");
      assert.match(body.error.message, /a -> b -> a|b -> a -> b/);
      assert.equal(body.error.details[0].rule, "acyclic");
      const agent = await server.api("/api/dags", {
        method: "POST",
        body: JSON.stringify({
          name: "g",
          nodes: [{ id: "g", kind: "agent", target: { device: "x" }, goal: "open the calculator" }],
        }),
      });
      assert.equal(agent.status, 503, "without a model, agent nodes fail fast");
      assert.equal((await agent.json()).error.code, "no-llm-configured");
      const garbage = await server.api("/api/dags", { method: "POST", body: "{nope" });
      assert.equal((await garbage.json()).error.code, "invalid-body");
      assert.equal((await server.api("/api/dags/nope")).status, 404);
    } finally {
      await server.close();
    }
  },
);

Deno.test(
  "failure skips dependents, retries run on another device after a device is killed mid-node, cancel reaches the device",
  live,
  async (t) => {
    const server = await startTestServer();
    const devices: RawDevice[] = [];
    const join = async (
      name: string,
      answer: (taskId: string) => "ok" | "fail" | "hang",
      tags = ["test"],
    ) => {
      const device = await RawDevice.open(server.wsUrl);
      devices.push(device);
      await device.connect(server.deviceKey);
      device.send("REGISTER_CAPABILITIES", { ...testCapabilities(name), tags });
      await device.next("READY");
      return { device, tasks: worker(device, answer) };
    };
    try {
      await t.step("a failed node's dependents end skipped and the DAG fails", async () => {
        await join("flaky", () => "fail");
        const id = await submit(server, {
          name: "f",
          nodes: [
            { id: "a", kind: "script", target: { device: "flaky" }, steps: [] },
            { id: "b", kind: "script", after: ["a"], target: { device: "flaky" }, steps: [] },
          ],
        });
        let dag: DagView | null = null;
        await until(
          () => dag?.state === "failed",
          "the DAG to fail",
          10_000,
          async () => void (dag = await view(server, id)),
        );
        assert.deepEqual(dag!.nodes.map((n) => [n.id, n.state]), [["a", "failed"], ["b", "skipped"]]);
        assert.equal(dag!.nodes[0].error?.code, "action-failed");
        assert.equal(dag!.nodes[1].reason, "dependency a failed");
      });
      await t.step(
        "a device killed mid-node: the attempt fails device-lost and the retry runs on another device",
        async () => {
          const doomed = await join("doomed", () => "hang", ["kill-me"]);
          const id = await submit(server, {
            name: "k",
            nodes: [{
              id: "n",
              kind: "script",
              target: { tags: ["kill-me"] },
              steps: [{ type: "wait", ms: 1 }],
              retry: { attempts: 2, backoffMs: 10 },
            }],
          });
          await until(() => doomed.tasks.length === 1, "the task to reach the doomed device", 5000);
          await join("healthy", () => "ok", ["kill-me"]);
          doomed.device.transport.close();
          let dag: DagView | null = null;
          await until(
            () => dag?.state === "succeeded" || dag?.state === "failed",
            "the DAG to end",
            40_000,
            async () => void (dag = await view(server, id)),
          );
          const attempts = dag!.nodes[0].attempts;
          assert.equal(attempts[0].code, "device-lost", JSON.stringify(attempts));
          assert.equal(dag!.metrics.attempts.n, attempts.length);
        },
      );
      await t.step("cancelling a running DAG sends CANCEL_TASK to the device", async () => {
        const sleeper = await join("sleeper", () => "hang");
        const id = await submit(server, {
          name: "x",
          nodes: [{ id: "n", kind: "script", target: { device: "sleeper" }, steps: [] }],
        });
        await until(
          () => sleeper.tasks.length === 1,
          "the task to arrive",
          5000,
        );
        const cancelled = await server.api(`/api/dags/${id}/cancel`, { method: "POST" });
        assert.equal(cancelled.status, 200);
        assert.equal((await cancelled.json()).state, "cancelled");
        const cancel = await sleeper.device.next("CANCEL_TASK", 5000);
        assert.match(cancel.payload.taskId, new RegExp(`^${id}\\.n\\.1$`));
        assert.equal((await view(server, id)).nodes[0].state, "cancelled");
        assert.equal((await server.api(`/api/dags/${id}/cancel`, { method: "POST" })).status, 409);
      });
    } finally {
      for (const device of devices) await device.close();
      await server.close();
    }
  },
);

Deno.test(
  "PATCH edits a running DAG: adds nodes, removes pending ones, refuses cycles and finished nodes",
  live,
  async () => {
    const server = await startTestServer();
    try {
      const id = await submit(server, {
        name: "e",
        nodes: [
          { id: "a", kind: "server", op: { sleepMs: 0 } },
          { id: "hold", kind: "server", op: { sleepMs: 600000 } },
          { id: "later", kind: "server", after: ["hold"], op: { sleepMs: 1 } },
        ],
      });
      const patch = (body: unknown) =>
        server.api(`/api/dags/${id}`, { method: "PATCH", body: JSON.stringify(body) });
      let dag: DagView | null = null;
      await until(
        () => dag?.nodes[0].state === "succeeded",
        "a to finish",
        5000,
        async () => void (dag = await view(server, id)),
      );
      const added = await patch({
        add: [{ id: "b", kind: "server", after: ["a"], op: { sleepMs: 1 } }],
        remove: ["later"],
      });
      assert.equal(added.status, 200, await added.clone().text());
      const edited = await added.json() as DagView;
      assert.deepEqual(
        edited.nodes.map((n) => n.id),
        ["a", "hold", "b"],
      );
      const cycle = await patch({
        add: [{ id: "c", kind: "server", after: ["d"], op: { sleepMs: 1 } }, {
          id: "d",
          kind: "server",
          after: ["c"],
          op: { sleepMs: 1 },
        }],
      });
      assert.equal(cycle.status, 409);
      assert.equal((await cycle.json()).error.code, "cycle");
      const finished = await patch({ remove: ["a"] });
      assert.equal(finished.status, 409);
      assert.equal((await finished.json()).error.code, "node-not-removable");
      await until(
        () => dag?.nodes.find((n) => n.id === "b")?.state === "succeeded",
        "b to run",
        5000,
        async () => void (dag = await view(server, id)),
      );
    } finally {
      await server.close();
    }
  },
);
