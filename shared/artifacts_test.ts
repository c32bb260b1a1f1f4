import assert from "node:assert/strict";
import {
  CHUNK_BYTES,
  ChunkAssembly,
  isRetryableTransferError,
  MAX_CHUNK_FRAME_BYTES,
  SEGMENT_NAME_PATTERN,
  validateRelativePath,
  validateSegmentName,
} from "./artifacts.ts";
import { ArtifactFileSchema } from "./dag/schema.ts";
import { encodeArtifactChunk } from "./protocol/binary_payloads.ts";
import { encodeMessage } from "./protocol/codec.ts";

const SHA = "a".repeat(64);

Deno.test("validateRelativePath() accepts plain nested paths and returns their segments", () => {
  assert.deepEqual(validateRelativePath("report.pdf"), { ok: true, value: ["report.pdf"] });
  assert.deepEqual(validateRelativePath("in/coming/r..pdf"), { ok: true, value: ["in", "coming", "r..pdf"] });
  assert.deepEqual(validateRelativePath(".hidden/x"), { ok: true, value: [".hidden", "x"] });
});

Deno.test("validateRelativePath() refuses every way out of the files directory with path-escape", async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ["empty", "", /is empty/],
    ["absolute", "/etc/passwd", /is absolute/],
    ["parent segment", "a/../../etc", /'\.\.' segment/],
    ["leading parent", "../x", /'\.\.' segment/],
    ["bare parent", "..", /'\.\.' segment/],
    ["backslash", "a\\..\\b", /backslash/],
    ["NUL", "a\0b", /NUL/],
    ["drive letter", "C:/Windows", /drive letter/],
    ["drive-relative", "c:x", /drive letter/],
    ["empty segment", "a//b", /empty or '\.' segment/],
    ["trailing slash", "dir/", /empty or '\.' segment/],
    ["dot segment", "./a", /empty or '\.' segment/],
  ];
  for (const [name, path, message] of cases) {
    await t.step(name, () => {
      const result = validateRelativePath(path);
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.equal(result.error.code, "path-escape");
      assert.match(result.error.message, /^Cannot use path: it leaves the files directory: /);
      assert.match(result.error.message, message);
    });
  }
});

Deno.test("validateSegmentName() allows safe file names only", () => {
  for (const good of ["report", "report.pdf", "dag_1-x", "A"]) {
    assert.equal(validateSegmentName(good).ok, true);
  }
  for (const bad of ["", ".", "..", ".meta", "a/b", "a\\b", "a b", "x".repeat(129), "é"]) {
    const result = validateSegmentName(bad);
    assert.equal(result.ok, false, bad);
    if (!result.ok) assert.equal(result.error.code, "schema-violation");
  }
});

Deno.test("ChunkAssembly", async (t) => {
  const start = { transferId: "t1", size: 10, sha256: SHA, maxBytes: 100 };

  await t.step("accepts contiguous chunks and a matching digest", () => {
    const assembly = ChunkAssembly.begin(start);
    assert.ok(assembly.ok);
    assert.deepEqual(assembly.value.accept(0, 4), { ok: true, value: undefined });
    assert.deepEqual(assembly.value.accept(4, 6), { ok: true, value: undefined });
    assert.equal(assembly.value.receivedBytes, 10);
    assert.deepEqual(assembly.value.finish(SHA), { ok: true, value: undefined });
  });

  await t.step("accepts an empty artifact with no chunks", () => {
    const assembly = ChunkAssembly.begin({ ...start, size: 0 });
    assert.ok(assembly.ok);
    assert.equal(assembly.value.finish(SHA).ok, true);
  });

  await t.step("refuses a declared size above the limit with artifact-too-large", () => {
    const assembly = ChunkAssembly.begin({ ...start, size: 101 });
    assert.equal(assembly.ok, false);
    if (!assembly.ok) {
      assert.equal(assembly.error.code, "artifact-too-large");
      assert.equal(assembly.error.ref, "t1");
      assert.match(assembly.error.message, /101 bytes declared, limit is 100/);
    }
  });

  await t.step("refuses a gap, a repeat and an overrun", () => {
    const assembly = ChunkAssembly.begin(start);
    assert.ok(assembly.ok);
    const gap = assembly.value.accept(4, 4);
    assert.equal(gap.ok, false);
    if (!gap.ok) assert.match(gap.error.message, /chunk at offset 4, expected 0/);
    assert.equal(assembly.value.accept(0, 4).ok, true);
    const repeat = assembly.value.accept(0, 4);
    assert.equal(repeat.ok, false);
    const overrun = assembly.value.accept(4, 7);
    assert.equal(overrun.ok, false);
    if (!overrun.ok) {
      assert.equal(overrun.error.code, "schema-violation");
      assert.match(overrun.error.message, /past the declared size 10/);
    }
  });

  await t.step("refuses a short transfer at END", () => {
    const assembly = ChunkAssembly.begin(start);
    assert.ok(assembly.ok);
    assembly.value.accept(0, 9);
    const end = assembly.value.finish(SHA);
    assert.equal(end.ok, false);
    if (!end.ok) assert.match(end.error.message, /ended at 9 of 10 declared bytes/);
  });

  await t.step("refuses a different digest with checksum-mismatch", () => {
    const assembly = ChunkAssembly.begin(start);
    assert.ok(assembly.ok);
    assembly.value.accept(0, 10);
    const end = assembly.value.finish("b".repeat(64));
    assert.equal(end.ok, false);
    if (!end.ok) {
      assert.equal(end.error.code, "checksum-mismatch");
      assert.equal(end.error.ref, "t1");
    }
  });

  await t.step("refuses chunks and a second END after END", () => {
    const assembly = ChunkAssembly.begin(start);
    assert.ok(assembly.ok);
    assembly.value.accept(0, 10);
    assembly.value.finish(SHA);
    assert.equal(assembly.value.accept(10, 0).ok, false);
    assert.equal(assembly.value.finish(SHA).ok, false);
  });
});

Deno.test("isRetryableTransferError() retries broken transfers, not refusals", () => {
  assert.equal(isRetryableTransferError("checksum-mismatch"), true);
  assert.equal(isRetryableTransferError("schema-violation"), true);
  assert.equal(isRetryableTransferError("timeout"), true);
  assert.equal(isRetryableTransferError("not-your-work"), false);
  assert.equal(isRetryableTransferError("artifact-too-large"), false);
  assert.equal(isRetryableTransferError("path-escape"), false);
});

Deno.test("MAX_CHUNK_FRAME_BYTES is the size of the largest ARTIFACT_CHUNK frame", () => {
  const frame = encodeMessage(
    "ARTIFACT_CHUNK",
    encodeArtifactChunk({ transferId: "x".repeat(64), offset: 0, data: new Uint8Array(CHUNK_BYTES) }),
    0,
  );
  assert.equal(frame.byteLength, MAX_CHUNK_FRAME_BYTES);
});

Deno.test("DAG validation and the artifact store share one name rule", () => {
  const names = [
    "report",
    "x.partial",
    "a..b",
    "-x",
    ".meta",
    ".partial",
    "..",
    ".",
    "",
    "a/b",
    "é",
    "x".repeat(64),
  ];
  for (const name of [...names, "x".repeat(65)]) {
    const dagAccepts = ArtifactFileSchema.safeParse({ artifact: name, file: "f" }).success;
    assert.equal(dagAccepts, validateSegmentName(name).ok, JSON.stringify(name));
    assert.equal(dagAccepts, SEGMENT_NAME_PATTERN.test(name), JSON.stringify(name));
  }
});
