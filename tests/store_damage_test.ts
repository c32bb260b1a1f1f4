/**
 * A damaged store stops the real server process at start with one line that names the file and says what
 * to do: no stack trace, a non-zero exit. Damage is made for real: garbage, a truncated file, a read-only
 * mount, one corrupt b-tree page in the middle of the file, one truncated JSON row in the input log.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { firstStartKeys, runServer, type ServerRun, stopServer } from "./helpers/server_process.ts";
import { runTask } from "./helpers/task.ts";
import { mountTmpfs } from "./helpers/tmpfs.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

/** Asserts the run failed the way an operator can act on: one line naming `file`, no stack, exit ≠ 0. */
async function assertOneClearLine(run: ServerRun, file: string, what: RegExp): Promise<string> {
  if (run.up) {
    await stopServer(run, "SIGKILL");
    assert.fail("the server must not come up");
  }
  const output = (run.stdout + run.stderr).trim();
  assert.notEqual(run.code, 0, output);
  assert.equal(output.split("\n").length, 1, `one line, got:\n${output}`);
  assert.doesNotMatch(output, /^\s+at /m, "no stack trace");
  assert.ok(output.includes(file), `names ${file}: ${output}`);
  assert.match(output, what);
  assert.match(output, /restore|backup|move it aside|free|remount|writable/i, "says what to do");
  return output;
}

/** A data dir with keys, a few finished DAGs and some history; the server stopped with `signal`. */
async function populatedStore(dataDir: string, signal: Deno.Signal, dags = 3): Promise<void> {
  const keys = await firstStartKeys(dataDir);
  const run = await runServer(dataDir, { extraArgs: ["--log", "silent"] });
  assert.ok(run.up);
  try {
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${run.url}${path}`, { ...init, headers: { authorization: `Bearer ${keys.operator}` } });
    const ids: string[] = [];
    for (let i = 0; i < dags; i++) {
      const nodes = Array.from({ length: 40 }, (_, n) => ({
        id: `n${n}`,
        kind: "server",
        op: { sleepMs: 1 },
        after: n ? [`n${n - 1}`] : [],
      }));
      const response = await api("/api/dags", {
        method: "POST",
        body: JSON.stringify({ name: `d${i}`, nodes }),
      });
      assert.equal(response.status, 201);
      ids.push((await response.json()).id);
    }
    for (const id of ids) {
      for (let state = ""; state !== "succeeded";) {
        state = (await (await api(`/api/dags/${id}`)).json()).state;
        if (state !== "succeeded") await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  } finally {
    await stopServer(run, signal);
  }
}

Deno.test("a data dir holding garbage for alien3.db stops the server with one clear line", live, async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "alien3-garbage-" });
  try {
    await Deno.writeFile(`${dataDir}/alien3.db`, crypto.getRandomValues(new Uint8Array(65536)));
    await assertOneClearLine(await runServer(dataDir), `${dataDir}/alien3.db`, /not a database/);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a truncated alien3.db stops the server with one clear line", live, async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "alien3-truncated-" });
  try {
    await populatedStore(dataDir, "SIGTERM");
    const file = `${dataDir}/alien3.db`;
    const { size } = await Deno.stat(file);
    assert.ok(size > 16 * 4096, `a store of some size (${size} bytes)`);
    await Deno.truncate(file, Math.floor(size / 8192) * 4096);
    await assertOneClearLine(await runServer(dataDir), file, /malformed|damaged|truncated|quick_check/i);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("one corrupt page in the middle of alien3.db is caught at start by quick_check", live, async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "alien3-corrupt-page-" });
  try {
    await populatedStore(dataDir, "SIGTERM", 12);
    const file = `${dataDir}/alien3.db`;
    const bytes = await Deno.readFile(file);
    const pageSize = (bytes[16] << 8) | bytes[17];
    const pages = bytes.length / pageSize;
    // Pages on the freelist keep their old contents, and quick_check rightly never reads them: skip them.
    const view = new DataView(bytes.buffer);
    const free = new Set<number>();
    for (let trunk = view.getUint32(32); trunk !== 0; trunk = view.getUint32((trunk - 1) * pageSize)) {
      free.add(trunk - 1);
      const count = view.getUint32((trunk - 1) * pageSize + 4);
      for (let i = 0; i < count; i++) free.add(view.getUint32((trunk - 1) * pageSize + 8 + 4 * i) - 1);
    }
    const leafPages: number[] = [];
    for (let page = 2; page < pages; page++) {
      if (bytes[page * pageSize] === 0x0d && !free.has(page)) leafPages.push(page);
    }
    assert.ok(leafPages.length >= 8, `enough table leaf pages (${leafPages.length} of ${pages})`);
    const victim = leafPages[Math.floor(leafPages.length / 2)];
    bytes.set(crypto.getRandomValues(new Uint8Array(64)).map((b) => b | 0x80), victim * pageSize);
    await Deno.writeFile(file, bytes);
    await assertOneClearLine(await runServer(dataDir), file, /quick_check/);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a truncated JSON row in the input log stops start-up naming the row", live, async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "alien3-bad-row-" });
  try {
    await populatedStore(dataDir, "SIGKILL", 1);
    const file = `${dataDir}/alien3.db`;
    const db = new DatabaseSync(file);
    const row = db.prepare("SELECT max(seq) AS seq FROM orion_inputs").get() as { seq: number | null };
    assert.ok(row.seq !== null, "the input log has a tail to replay");
    db.prepare("UPDATE orion_inputs SET event = substr(event, 1, length(event) / 2) WHERE seq = ?").run(
      row.seq,
    );
    db.close();
    const output = await assertOneClearLine(await runServer(dataDir), file, /input log/);
    assert.ok(output.includes(`row ${row.seq}`), output);
    const fix = /deno task store (truncate-log --from \d+ --data-dir \S+);/.exec(output)?.[1];
    assert.ok(fix, `offers a way out: ${output}`);
    const truncated = await runTask("store", ...fix.split(" "));
    assert.equal(truncated.code, 0, truncated.stderr);
    const again = await runServer(dataDir, { extraArgs: ["--log", "silent"] });
    assert.ok(again.up, "the server starts once the damaged tail is dropped");
    await stopServer(again);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test({
  name: "a read-only data dir stops the server with one clear line",
  ...live,
  fn: async () => {
    const disk = await mountTmpfs(16 * 1024 * 1024);
    try {
      await populatedStore(disk.dir, "SIGTERM", 1);
      const remount = await new Deno.Command("mount", { args: ["-o", "remount,ro", disk.dir] }).output();
      assert.ok(remount.success);
      await assertOneClearLine(await runServer(disk.dir), `${disk.dir}/alien3.db`, /read-only/);
    } finally {
      await disk.unmount();
    }
  },
});
