/**
 * A full disk, for real: the data dir is a small tmpfs that the test fills to the last byte. Refused
 * writes become `storage-full` (507) and leave nothing behind, server-recorded events wait for space
 * instead of crashing the process, and the server starts on a full disk, read-only until writes succeed.
 */
import assert from "node:assert/strict";
import { parseConfig } from "../server/config.ts";
import { type RunningServer, startServer } from "../server/server.ts";
import { until } from "./helpers/gateway_harness.ts";
import { mountTmpfs, type Tmpfs } from "./helpers/tmpfs.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

/** A server on `dataDir` and a fetch with the given operator token (made in the store when not given). */
async function boot(dataDir: string, token?: string) {
  const config = parseConfig(
    ["--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir, "--log", "silent"],
    () => undefined,
  );
  const server: RunningServer = await startServer(config, { keyPollMs: 50, storeRetryMaxMs: 200 });
  const operatorToken = token ?? server.keys.create("operator", "test-operator").secret;
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${server.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${operatorToken}`, ...init.headers },
    });
  return { server, api, operatorToken };
}

/** A server on a 24 MiB tmpfs; `restart` stops it, runs `whileDown` (fill or free the disk), and boots it again. */
interface Rig {
  disk: Tmpfs;
  server: RunningServer;
  api: (path: string, init?: RequestInit) => Promise<Response>;
  restart(whileDown: () => Promise<void>): Promise<void>;
}

/** Runs `body` on a fresh rig; the server is closed and the tmpfs unmounted however it ends. */
async function onTmpfs(body: (rig: Rig) => Promise<void>): Promise<void> {
  const disk = await mountTmpfs(24 * 1024 * 1024);
  let running: Awaited<ReturnType<typeof boot>> | null = null;
  try {
    running = await boot(disk.dir);
    const { operatorToken } = running;
    const rig: Rig = {
      disk,
      server: running.server,
      api: running.api,
      async restart(whileDown) {
        const stopping = running!;
        running = null;
        await stopping.server.close();
        await whileDown();
        running = await boot(disk.dir, operatorToken);
        rig.server = running.server;
        rig.api = running.api;
      },
    };
    await body(rig);
  } finally {
    try {
      await running?.server.close();
    } finally {
      await disk.unmount();
    }
  }
}

async function health(url: string): Promise<{ httpStatus: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}/healthz`);
  return { httpStatus: response.status, body: await response.json() };
}

const sleeper = (name: string, sleepMs: number) => ({
  name,
  nodes: [
    { id: "pause", kind: "server", op: { sleepMs } },
    { id: "after", kind: "server", after: ["pause"], op: { sleepMs: 1 } },
  ],
});

Deno.test({
  name: "a DAG refused on a full disk gets 507 storage-full, is not listed, and is not back after a restart",
  ...live,
  fn: () =>
    onTmpfs(async (rig) => {
      await rig.disk.fill();
      const response = await rig.api("/api/dags", {
        method: "POST",
        body: JSON.stringify(sleeper("refused", 1)),
      });
      const body = await response.json();
      assert.equal(response.status, 507, JSON.stringify(body));
      assert.equal(body.error.code, "storage-full");
      assert.match(body.error.message, /^Cannot store/);
      assert.deepEqual((await (await rig.api("/api/dags")).json()).dags, [], "the refused DAG is not listed");
      await rig.restart(() => rig.disk.free());
      assert.deepEqual(
        (await (await rig.api("/api/dags")).json()).dags,
        [],
        "nor is it back after a restart",
      );
      const accepted = await rig.api("/api/dags", { method: "POST", body: JSON.stringify(sleeper("ok", 1)) });
      assert.equal(accepted.status, 201, "writes work again once there is space");
    }),
});

Deno.test({
  name: "a timer that fires on a full disk does not crash the server; its node completes once space returns",
  ...live,
  fn: () =>
    onTmpfs(async ({ disk, server, api }) => {
      const submitted = await api("/api/dags", {
        method: "POST",
        body: JSON.stringify(sleeper("timer", 300)),
      });
      assert.equal(submitted.status, 201);
      const { id } = await submitted.json();
      await disk.fill();
      let report = await health(server.url);
      await until(() => report.httpStatus === 503, "the timer's write to fail", 10_000, async () => {
        report = await health(server.url);
      });
      assert.equal(report.body.status, "degraded");
      assert.equal(report.body.code, "storage-full");
      const stalled = await (await api(`/api/dags/${id}`)).json();
      assert.equal(stalled.nodes[0].state, "running", "memory does not run ahead of the disk");
      await disk.free();
      let view = stalled;
      await until(() => view.state === "succeeded", "the DAG to finish", 10_000, async () => {
        view = await (await api(`/api/dags/${id}`)).json();
      });
      assert.deepEqual(view.nodes.map((n: { state: string }) => n.state), ["succeeded", "succeeded"]);
      assert.equal((await health(server.url)).httpStatus, 200);
    }),
});

Deno.test({
  name:
    "the server starts on a full disk read-only: reads work, writes get 507, /healthz says degraded until space returns",
  ...live,
  fn: () =>
    onTmpfs(async (rig) => {
      const submitted = await rig.api("/api/dags", {
        method: "POST",
        body: JSON.stringify(sleeper("before", 1)),
      });
      const { id } = await submitted.json();
      let state = "";
      await until(() => state === "succeeded", "the first DAG to finish", 5000, async () => {
        state = (await (await rig.api(`/api/dags/${id}`)).json()).state;
      });
      await rig.restart(() => rig.disk.fill());
      const report = await health(rig.server.url);
      assert.equal(report.httpStatus, 503);
      assert.equal(report.body.status, "degraded");
      assert.equal(report.body.store, "read-only");
      const listed = (await (await rig.api("/api/dags")).json()).dags;
      assert.deepEqual(listed.map((d: { id: string }) => d.id), [id], "reads are served");
      const refused = await rig.api("/api/dags", {
        method: "POST",
        body: JSON.stringify(sleeper("refused", 1)),
      });
      assert.equal(refused.status, 507);
      assert.equal((await refused.json()).error.code, "storage-full");
      await rig.disk.free();
      let httpStatus = 0;
      await until(() => httpStatus === 200, "the store to take writes again", 10_000, async () => {
        httpStatus = (await health(rig.server.url)).httpStatus;
      });
      const accepted = await rig.api("/api/dags", {
        method: "POST",
        body: JSON.stringify(sleeper("after", 1)),
      });
      assert.equal(accepted.status, 201);
    }),
});
