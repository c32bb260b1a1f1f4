import assert from "node:assert/strict";
import { a3Env, A3Process, runA3, runA3InTerminal } from "./helpers/a3.ts";
import { startClient } from "./helpers/client_process.ts";
import { submitDag } from "./helpers/dags.ts";
import { until } from "./helpers/gateway_harness.ts";
import { freePort } from "./helpers/ports.ts";
import { startTestServer } from "./helpers/server.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

/** A DAG that keeps the device busy for a moment: a node on it, then a server node and a second one. */
const SLOW_DAG = {
  name: "cli demo",
  nodes: [
    {
      id: "first",
      kind: "script",
      target: { device: "cli-box" },
      steps: [{ type: "wait", ms: 400 }, { type: "fileInfo", path: "note.txt" }],
    },
    { id: "nap", kind: "server", after: ["first"], op: { sleepMs: 200 } },
    {
      id: "second",
      kind: "script",
      after: ["first"],
      target: { device: "cli-box" },
      steps: [{ type: "wait", ms: 200 }],
    },
  ],
};

/** A DAG whose node fails: the headless client was not started with --allow-run. */
const FAILING_DAG = {
  name: "cli fails",
  nodes: [
    { id: "boom", kind: "script", target: { device: "cli-box" }, steps: [{ type: "run", command: "true" }] },
    { id: "after", kind: "server", after: ["boom"], op: { sleepMs: 10 } },
  ],
};

Deno.test("operator CLI: every command against a real server and a real device client", live, async (t) => {
  const server = await startTestServer();
  const client = await startClient(server.wsUrl, server.deviceKey, "cli-box");
  const work = await Deno.makeTempDir({ prefix: "alien3-a3-" });
  const env = a3Env(`${work}/config`, { ALIEN3_SERVER: server.url, ALIEN3_TOKEN: server.operatorToken });
  const dagFile = async (name: string, dag: unknown) => {
    const path = `${work}/${name}.json`;
    await Deno.writeTextFile(path, JSON.stringify(dag));
    return path;
  };
  try {
    let deviceId = "";
    await until(() => deviceId !== "", "the client to be ready", 20_000, async () => {
      const { devices } = await (await server.api("/api/devices")).json();
      deviceId = devices.find((d: { state: string }) => d.state === "ready")?.id ?? "";
    });

    await t.step("devices prints a table with the device's name, id, state and capabilities", async () => {
      const out = await runA3(["devices"], env);
      assert.equal(out.code, 0, out.stderr);
      const [header, row] = out.stdout.trimEnd().split("\n");
      assert.match(header, /^NAME\s+ID\s+STATE\s+CAPABILITIES\s+LAST SEEN\s+RTT$/);
      assert.match(row, new RegExp(`^cli-box\\s+${deviceId}\\s+ready\\s+linux headless .*tasks:4`));
    });

    let watchedId = "";
    await t.step(
      "dag run --watch on a terminal redraws a progress block and ends with the final state",
      async () => {
        const out = await runA3InTerminal(["dag", "run", await dagFile("slow", SLOW_DAG), "--watch"], env);
        assert.equal(out.code, 0, out.stdout);
        const screen = out.stdout.replaceAll("\r", "");
        // The block is redrawn in place: cursor up over it (CSI n F), then erase below (CSI J).
        assert.match(screen, new RegExp(String.raw`\u001b\[\d+F\u001b\[J`), "the block is redrawn in place");
        assert.match(screen, /^ {2}cli-box: first \(running/m, "the device's current node is shown");
        assert.match(
          screen,
          /^ {2}1 running · 2 pending \(3 nodes\)$/m,
          "nodes are counted by state",
        );
        assert.match(screen, /^ {2}server: nap \(running\)$/m);
        const final = /^DAG cli demo \(([0-9a-f-]{36})\) succeeded in [\d.]+m?s: 3 succeeded$/m.exec(screen);
        assert.ok(final, screen);
        watchedId = final[1];
        assert.equal((await (await server.api(`/api/dags/${watchedId}`)).json()).state, "succeeded");
      },
    );

    let failedId = "";
    await t.step(
      "dag run --watch without a terminal prints plain lines and exits 1 for a failed DAG",
      async () => {
        const out = await runA3(["dag", "run", await dagFile("failing", FAILING_DAG), "--watch"], env);
        assert.equal(out.code, 1, out.stderr);
        assert.ok(!out.stdout.includes("\x1b"), "no terminal control codes");
        const lines = out.stdout.trimEnd().split("\n");
        assert.match(lines[0], /^Watching DAG cli fails \(([0-9a-f-]{36})\): 2 nodes$/);
        failedId = /\(([0-9a-f-]{36})\)/.exec(lines[0])![1];
        assert.ok(
          lines.some((l) => /^\+[\d.]+s node boom: pending → assigned on cli-box \(attempt 1\)$/.test(l)),
        );
        assert.ok(lines.some((l) => /^\+[\d.]+s step boom#1\.0 run: failed: run-not-allowed: /.test(l)));
        assert.ok(
          lines.some((l) => /^\+[\d.]+s node after: pending → skipped: dependency boom failed$/.test(l)),
        );
        assert.match(lines.at(-3)!, /^DAG cli fails \(.*\) failed in \d+ms: 1 failed, 1 skipped$/);
        assert.match(lines.at(-2)!, /^ {2}node boom failed on cli-box: run-not-allowed: Cannot run program/);
        assert.equal(lines.at(-1), "  node after skipped: dependency boom failed");
      },
    );

    await t.step("a relative DAG file is read from the folder the task was started in", async () => {
      await dagFile("relative", {
        name: "relative",
        nodes: [{ id: "only", kind: "server", op: { sleepMs: 1 } }],
      });
      const out = await runA3(["dag", "run", "relative.json"], env, work);
      assert.equal(out.code, 0, out.stderr);
      assert.match(out.stdout, /^Submitted DAG [0-9a-f-]{36} \(running\)\.\n$/);
    });

    await t.step(
      "a refused DAG prints the server's code and every rule it broke; a broken file is usage",
      async () => {
        const refusedFile = await dagFile("refused", {
          name: "refused",
          nodes: [
            { id: "y", kind: "server", after: ["elsewhere"], op: { sleepMs: 1 } },
            { id: "z", kind: "server", after: ["nowhere"], op: { sleepMs: 1 } },
          ],
        });
        const refused = await runA3(["dag", "run", refusedFile, "--watch"], env);
        assert.equal(refused.code, 1);
        assert.match(refused.stderr, /^error: Cannot accept DAG: .* \(unknown-dependency, HTTP 400\)$/m);
        assert.match(refused.stderr, /^ {2}- Node y depends on unknown node elsewhere$/m);
        assert.match(refused.stderr, /^ {2}- Node z depends on unknown node nowhere$/m);
        await Deno.writeTextFile(`${work}/broken.json`, "{ nodes: ");
        const broken = await runA3(["dag", "run", `${work}/broken.json`], env);
        assert.equal(broken.code, 2);
        assert.match(broken.stderr, /^error: Cannot read DAG file .*broken\.json: not JSON: /m);
      },
    );

    await t.step("dag ls lists both DAGs with their states", async () => {
      const out = await runA3(["dag", "ls"], env);
      assert.equal(out.code, 0, out.stderr);
      assert.match(out.stdout, /^ID\s+NAME\s+STATE\s+NODES\s+CREATED\s+TOOK$/m);
      assert.match(out.stdout, new RegExp(`^${watchedId}\\s+cli demo\\s+succeeded\\s+3\\s`, "m"));
      assert.match(out.stdout, new RegExp(`^${failedId}\\s+cli fails\\s+failed\\s+2\\s`, "m"));
      assert.match(out.stdout, /^\S+\s+relative\s+/m);
    });

    await t.step("dag show lists nodes with state, device, attempts and the error", async () => {
      const out = await runA3(["dag", "show", failedId], env);
      assert.equal(out.code, 0, out.stderr);
      assert.match(out.stdout, new RegExp(`^DAG cli fails \\(${failedId}\\): failed, `, "m"));
      assert.match(
        out.stdout,
        /^boom\s+script\s+failed\s+cli-box\s+1\s+\S+\s+run-not-allowed: Cannot run program/m,
      );
      assert.match(out.stdout, /^after\s+server\s+skipped\s+-\s+0\s+-\s+dependency boom failed$/m);
      assert.match(out.stdout, /^ {2}boom#1 on cli-box: failed \(run-not-allowed/m);
      const missing = await runA3(["dag", "show", "no-such-dag"], env);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /^error: Cannot find DAG no-such-dag \(unknown-dag, HTTP 404\)$/m);
    });

    await t.step("dag logs prints every step of every node with its result", async () => {
      const out = await runA3(["dag", "logs", watchedId], env);
      assert.equal(out.code, 0, out.stderr);
      assert.match(out.stdout, /^NODE\s+STEP\s+TYPE\s+RESULT\s+TOOK\s+DETAIL$/m);
      assert.match(out.stdout, /^first\s+#1\.0\s+wait\s+ok\s+\S+\s+\{"ms":400\}$/m);
      assert.match(out.stdout, /^first\s+#1\.1\s+fileInfo\s+ok\s+.*→ \{.*"exists":false/m);
      assert.match(out.stdout, /^second\s+#1\.0\s+wait\s+ok/m);
      const failed = await runA3(["dag", "logs", failedId, "--node", "boom"], env);
      assert.match(failed.stdout, /^boom\s+#1\.0\s+run\s+run-not-allowed\s+\S+\s+Cannot run program/m);
    });

    await t.step("dag cancel ends a running DAG; cancelling it again is refused", async () => {
      const id = await submitDag(server, {
        name: "long",
        nodes: [{ id: "sleep", kind: "server", op: { sleepMs: 60_000 } }],
      });
      const out = await runA3(["dag", "cancel", id], env);
      assert.equal(out.code, 0, out.stderr);
      assert.equal(out.stdout, `DAG ${id}: cancelled.\n`);
      assert.equal((await (await server.api(`/api/dags/${id}`)).json()).state, "cancelled");
      const again = await runA3(["dag", "cancel", id], env);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /\(dag-finished, HTTP 409\)/);
    });

    await t.step("act runs an action on the device and prints the device's result", async () => {
      await Deno.writeTextFile(`${client.filesDir}/note.txt`, "hello");
      const out = await runA3(["act", "cli-box", "file-info", "note.txt"], env);
      assert.equal(out.code, 0, out.stderr);
      assert.match(out.stdout, /^fileInfo on cli-box: ok \([\d.]+ms, action [0-9a-f-]{36}\)$/m);
      assert.match(out.stdout, /"exists":true/);
      assert.match(out.stdout, /"size":5/);
      const refused = await runA3(["act", "cli-box", "move", "100", "200"], env);
      assert.equal(refused.code, 1, "a headless device refuses input");
      assert.match(refused.stderr, /\(no-input, HTTP 422\)/);
      const bad = await runA3(["act", "cli-box", "move", "100"], env);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /Missing Y for move; usage: act DEVICE move X Y/);
    });

    await t.step("events follows new events, one line each, after its connected marker", async () => {
      const events = new A3Process(["events"], env);
      try {
        await events.line("stderr", /^Following events from /);
        const id = await submitDag(server, {
          name: "tiny",
          nodes: [{ id: "only", kind: "server", op: { sleepMs: 1 } }],
        });
        await events.line("stdout", new RegExp(`dag ${id}: running → succeeded$`));
        assert.ok(
          events.stdout.some((l) => new RegExp(`dag ${id} node only#1: pending → running$`).test(l)),
          events.stdout.join("\n"),
        );
        assert.ok(!events.stdout.some((l) => l.includes(watchedId)), "history is not replayed without --all");
      } finally {
        const status = await events.stop("SIGINT");
        assert.equal(status.code, 130);
      }
    });

    await t.step("keys create, list and revoke go through the REST API", async () => {
      const created = await runA3(["keys", "create", "--scope", "device", "--name", "lab-pcs"], env);
      assert.equal(created.code, 0, created.stderr);
      const secret = created.stdout.trimEnd().split("\n").at(-1)!;
      assert.match(secret, /^a3d_/);
      assert.equal(server.keys.verify(secret)?.name, "lab-pcs", "the server takes the created key");
      const listed = await runA3(["keys", "list"], env);
      assert.match(listed.stdout, /^key_\S+\s+device\s+lab-pcs\s+\S+\s+-\s+-$/m);
      assert.ok(!listed.stdout.includes(secret));
      const revoked = await runA3(["keys", "revoke", "lab-pcs"], env);
      assert.equal(revoked.code, 0, revoked.stderr);
      assert.match(revoked.stdout, /^Revoked device key key_\S+ \(lab-pcs\)\.$/m);
      assert.equal(server.keys.verify(secret), null, "the server no longer takes the revoked key");
    });

    await t.step("a wrong token is refused with the server's code, a hint and exit 1", async () => {
      const out = await runA3(["devices", "--token", "a3o_wrong"], env);
      assert.equal(out.code, 1);
      assert.equal(out.stdout, "");
      assert.match(
        out.stderr,
        /^error: Cannot authenticate: token is wrong or revoked \(unauthorized, HTTP 401\)$/m,
      );
      assert.match(out.stderr, /^hint: the token came from --token; /m);
      const deviceKey = await runA3(["devices"], { ...env, ALIEN3_TOKEN: server.deviceKey });
      assert.equal(deviceKey.code, 1);
      assert.match(deviceKey.stderr, /\(wrong-scope, HTTP 403\)/);
      assert.match(deviceKey.stderr, /^hint: the token from ALIEN3_TOKEN is a device key/m);
    });

    await t.step("no token is a usage error (exit 2); an unreachable server exits 1 naming it", async () => {
      const none = await runA3(["devices"], { ...env, ALIEN3_TOKEN: "" });
      assert.equal(none.code, 2);
      assert.match(none.stderr, /^error: No operator token: pass --token, set ALIEN3_TOKEN, or put/m);
      const port = freePort();
      const closed = await runA3(["devices", "--server", `http://127.0.0.1:${port}`], env);
      assert.equal(closed.code, 1);
      assert.match(
        closed.stderr,
        new RegExp(`^error: Cannot reach the server at http://127\\.0\\.0\\.1:${port}: `, "m"),
      );
    });

    await t.step("the config file gives server and token when no flag or variable does", async () => {
      await Deno.mkdir(`${work}/config/alien3`, { recursive: true });
      await Deno.writeTextFile(
        `${work}/config/alien3/cli.json`,
        JSON.stringify({ server: server.url, token: server.operatorToken }),
      );
      const out = await runA3(["devices"], a3Env(`${work}/config`));
      assert.equal(out.code, 0, out.stderr);
      assert.match(out.stdout, /^cli-box\s/m);
      const flagWins = await runA3(["devices", "--token", "a3o_wrong"], a3Env(`${work}/config`));
      assert.equal(flagWins.code, 1, "the flag wins over the file");
    });
  } finally {
    await client.stop();
    await server.close();
    await Deno.remove(work, { recursive: true });
  }
});
