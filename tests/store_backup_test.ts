/**
 * Backup and restore with the real CLI and a real server process: a backup taken while the server runs
 * brings a store back after it was destroyed; a restore refuses while the server holds the store.
 */
import assert from "node:assert/strict";
import { firstStartKeys, runServer, stopServer } from "./helpers/server_process.ts";
import { runTask } from "./helpers/task.ts";

const live = { sanitizeResources: false, sanitizeOps: false };
const storeCli = (...args: string[]) => runTask("store", ...args);

Deno.test(
  "store backup taken while the server runs restores a destroyed store; restore refuses while the server runs",
  live,
  async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "alien3-backup-" });
    const backupDir = await Deno.makeTempDir({ prefix: "alien3-backup-target-" });
    const backup = `${backupDir}/alien3-backup.db`;
    const keys = await firstStartKeys(dataDir);
    let run = await runServer(dataDir, { extraArgs: ["--log", "silent"] });
    try {
      assert.ok(run.up);
      const api = (url: string, path: string, init: RequestInit = {}) =>
        fetch(`${url}${path}`, { ...init, headers: { authorization: `Bearer ${keys.operator}` } });
      const dag = { name: "kept", nodes: [{ id: "pause", kind: "server", op: { sleepMs: 1 } }] };
      const { id } = await (await api(run.url, "/api/dags", { method: "POST", body: JSON.stringify(dag) }))
        .json();
      let state = "";
      while (state !== "succeeded") state = (await (await api(run.url, `/api/dags/${id}`)).json()).state;

      const made = await storeCli("backup", backup, "--data-dir", dataDir);
      assert.equal(made.code, 0, made.stderr);
      assert.match(made.stdout, /quick_check ok/);
      const busy = await storeCli("restore", backup, "--data-dir", dataDir);
      assert.equal(busy.code, 1);
      assert.match(busy.stderr, /stop the server first/);

      await stopServer(run);
      await Deno.writeFile(`${dataDir}/alien3.db`, crypto.getRandomValues(new Uint8Array(8192)));
      const broken = await runServer(dataDir);
      assert.ok(!broken.up && broken.code !== 0, "the destroyed store does not start");

      const restored = await storeCli("restore", backup, "--data-dir", dataDir);
      assert.equal(restored.code, 0, restored.stderr);
      assert.match(restored.stdout, /kept as .*alien3\.db\.replaced-/);
      run = await runServer(dataDir, { extraArgs: ["--log", "silent"] });
      assert.ok(run.up);
      const view = await (await api(run.url, `/api/dags/${id}`)).json();
      assert.equal(view.state, "succeeded");
      assert.equal(view.name, "kept");
    } finally {
      await stopServer(run);
      await Deno.remove(dataDir, { recursive: true });
      await Deno.remove(backupDir, { recursive: true });
    }
  },
);
