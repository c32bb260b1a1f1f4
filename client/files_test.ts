import assert from "node:assert/strict";
import { join } from "node:path";
import { resolveInFilesDir } from "./files.ts";

async function withDirs(run: (filesDir: string, outside: string) => Promise<void>): Promise<void> {
  const base = await Deno.realPath(await Deno.makeTempDir({ prefix: "files_test_" }));
  const filesDir = join(base, "files");
  const outside = join(base, "outside");
  await Deno.mkdir(filesDir);
  await Deno.mkdir(outside);
  try {
    await run(filesDir, outside);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
}

async function assertEscape(filesDir: string, relative: string, message: RegExp): Promise<void> {
  const result = await resolveInFilesDir(filesDir, relative, { createParents: true });
  assert.equal(result.ok, false, `${relative} should be refused`);
  if (result.ok) return;
  assert.equal(result.error.code, "path-escape");
  assert.match(result.error.message, message);
}

Deno.test("resolveInFilesDir() resolves a nested path inside and creates its parents", async () => {
  await withDirs(async (filesDir) => {
    const result = await resolveInFilesDir(filesDir, "incoming/2024/report.pdf", { createParents: true });
    assert.ok(result.ok);
    assert.equal(result.value, join(filesDir, "incoming", "2024", "report.pdf"));
    assert.ok((await Deno.stat(join(filesDir, "incoming", "2024"))).isDirectory);
    await assert.rejects(Deno.stat(result.value), Deno.errors.NotFound, "the file itself is not created");
  });
});

Deno.test("resolveInFilesDir() leaves parents alone unless asked", async () => {
  await withDirs(async (filesDir) => {
    const result = await resolveInFilesDir(filesDir, "a/b.txt");
    assert.ok(result.ok);
    await assert.rejects(Deno.stat(join(filesDir, "a")), Deno.errors.NotFound);
  });
});

Deno.test("resolveInFilesDir() refuses absolute and parent paths without touching the disk", async () => {
  await withDirs(async (filesDir, outside) => {
    await assertEscape(filesDir, join(outside, "x"), /is absolute/);
    await assertEscape(filesDir, "../outside/x", /'\.\.' segment/);
    await assertEscape(filesDir, "a/../../outside/x", /'\.\.' segment/);
    assert.deepEqual([...Deno.readDirSync(filesDir)], [], "no parent directory was created");
  });
});

Deno.test("resolveInFilesDir() refuses a symlink inside the files dir that points outside", async () => {
  await withDirs(async (filesDir, outside) => {
    await Deno.symlink(outside, join(filesDir, "link"));
    await assertEscape(filesDir, "link/x.txt", /leaves the files directory via link/);
    await assertEscape(filesDir, "link/deeper/x.txt", /leaves the files directory via link/);
    await assert.rejects(Deno.stat(join(outside, "deeper")), Deno.errors.NotFound, "nothing created outside");
  });
});

Deno.test("resolveInFilesDir() refuses a file symlink to the outside and a dangling link", async () => {
  await withDirs(async (filesDir, outside) => {
    await Deno.writeTextFile(join(outside, "secret"), "s");
    await Deno.symlink(join(outside, "secret"), join(filesDir, "out.txt"));
    await assertEscape(filesDir, "out.txt", /leaves the files directory via out\.txt/);
    await Deno.symlink(join(filesDir, "nowhere"), join(filesDir, "dangling"));
    await assertEscape(filesDir, "dangling/x", /dangling link dangling/);
  });
});

Deno.test("resolveInFilesDir() follows a symlink that stays inside the files dir", async () => {
  await withDirs(async (filesDir) => {
    await Deno.mkdir(join(filesDir, "real"));
    await Deno.symlink(join(filesDir, "real"), join(filesDir, "alias"));
    const result = await resolveInFilesDir(filesDir, "alias/x.txt");
    assert.ok(result.ok);
    assert.equal(result.value, join(filesDir, "alias", "x.txt"));
  });
});

Deno.test("resolveInFilesDir() works when the files dir itself is reached through a symlink", async () => {
  await withDirs(async (filesDir, outside) => {
    const alias = join(outside, "files-alias");
    await Deno.symlink(filesDir, alias);
    const result = await resolveInFilesDir(alias, "a/b.txt", { createParents: true });
    assert.ok(result.ok);
    assert.equal(result.value, join(filesDir, "a", "b.txt"));
  });
});
