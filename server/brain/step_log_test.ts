import assert from "node:assert/strict";
import sharp from "sharp";
import type { Fields, Logger } from "../log.ts";
import { EVENT_LOG_MIGRATIONS, EventLog, isStepEvent } from "../orion/event_log.ts";
import { type Database, openDatabase } from "../store/db.ts";
import type { StorageError } from "../store/errors.ts";
import {
  capJson,
  frameUrl,
  MAX_STEP_JSON_BYTES,
  STEP_LOG_MIGRATIONS,
  StepLog,
  type StepLogDeps,
} from "./step_log.ts";
import type { Frame, StepEntry } from "./types.ts";

/** A logger that keeps what it is told. */
function recordingLogger(): Logger & { lines: Array<{ level: string; message: string; fields?: Fields }> } {
  const lines: Array<{ level: string; message: string; fields?: Fields }> = [];
  return {
    lines,
    info: (message, fields) => void lines.push({ level: "info", message, fields }),
    warn: (message, fields) => void lines.push({ level: "warn", message, fields }),
    error: (message, fields) => void lines.push({ level: "error", message, fields }),
  };
}

async function jpeg(width: number, height: number): Promise<Frame> {
  const image = await sharp({ create: { width, height, channels: 3, background: { r: 40, g: 90, b: 200 } } })
    .jpeg({ quality: 70 }).toBuffer();
  return frameOf("jpeg", new Uint8Array(image), width, height);
}

async function png(width: number, height: number): Promise<Frame> {
  const image = await sharp({ create: { width, height, channels: 3, background: { r: 200, g: 30, b: 30 } } })
    .png().toBuffer();
  return frameOf("png", new Uint8Array(image), width, height);
}

function frameOf(format: Frame["format"], image: Uint8Array, width: number, height: number): Frame {
  return { format, image, width, height, originalWidth: width, originalHeight: height, capturedAtMs: 1 };
}

function entry(index: number, fields: Partial<StepEntry> = {}): StepEntry {
  return {
    dagId: "dag-1",
    nodeId: "look",
    attempt: 1,
    index,
    type: "frame",
    args: { format: "jpeg" },
    startedAt: 1000 + index * 10,
    endedAt: 1005 + index * 10,
    ok: true,
    error: null,
    ...fields,
  };
}

interface Fixture {
  db: Database;
  dataDir: string;
  log: StepLog;
  events: EventLog;
  logger: ReturnType<typeof recordingLogger>;
  refused: StorageError[];
  [Symbol.asyncDispose](): Promise<void>;
}

async function fixture(options: Partial<StepLogDeps> = {}): Promise<Fixture> {
  const dataDir = await Deno.makeTempDir({ prefix: "alien3-steplog-" });
  const db = openDatabase(":memory:", [...EVENT_LOG_MIGRATIONS, ...STEP_LOG_MIGRATIONS]);
  const events = new EventLog(db);
  const logger = recordingLogger();
  const refused: StorageError[] = [];
  const log = new StepLog({
    db,
    dataDir,
    logger,
    events,
    health: { failed: (error) => void refused.push(error) },
    ...options,
  });
  return {
    db,
    dataDir,
    log,
    events,
    logger,
    refused,
    async [Symbol.asyncDispose]() {
      await log.close();
      db.close();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

Deno.test("append() keeps the step's row and a small JPEG byte for byte; list() links the frame", async () => {
  await using f = await fixture();
  const frame = await jpeg(320, 200);
  await f.log.append(entry(0, { output: { width: 320 } }), frame);
  await f.log.append(entry(1, { type: "click", args: { x: 5, y: 6 } }));
  assert.deepEqual(f.log.list("dag-1", "look"), [{
    attempt: 1,
    index: 0,
    type: "frame",
    args: { format: "jpeg" },
    startedAt: 1000,
    endedAt: 1005,
    ok: true,
    error: null,
    output: { width: 320 },
    frame: "/api/dags/dag-1/nodes/look/steps/1/0/frame",
  }, {
    attempt: 1,
    index: 1,
    type: "click",
    args: { x: 5, y: 6 },
    startedAt: 1010,
    endedAt: 1015,
    ok: true,
    error: null,
    output: null,
    frame: null,
  }]);
  assert.deepEqual(await f.log.frame("dag-1", "look", 1, 0), frame.image);
  assert.deepEqual(await Deno.readFile(`${f.dataDir}/frames/dag-1/look/1-0.jpg`), frame.image);
  assert.equal(await f.log.frame("dag-1", "look", 1, 1), null, "a step without a frame");
  assert.equal(await f.log.frame("dag-1", "look", 2, 0), null, "no such step");
});

Deno.test("a PNG frame and a JPEG wider than 1280 px are kept as JPEGs 1280 px wide", async () => {
  await using f = await fixture();
  await f.log.append(entry(0), await png(1600, 900));
  await f.log.append(entry(1), await jpeg(2560, 1440));
  for (const index of [0, 1]) {
    const stored = await f.log.frame("dag-1", "look", 1, index);
    assert.ok(stored !== null);
    const meta = await sharp(stored).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ["jpeg", 1280, 720], `step ${index}`);
  }
});

Deno.test("a failed step keeps its failure; an attempt's steps come in attempt order", async () => {
  await using f = await fixture();
  const error = { code: "action-failed" as const, message: "Cannot execute action: boom", retryable: false };
  await f.log.append(entry(0, { attempt: 2, ok: false, error }));
  await f.log.append(entry(0, { attempt: 1 }));
  const steps = f.log.list("dag-1", "look");
  assert.deepEqual(steps.map((s) => [s.attempt, s.index, s.ok, s.error]), [[1, 0, true, null], [
    2,
    0,
    false,
    error,
  ]]);
});

Deno.test("past maxFrames the oldest frame files are deleted and their rows keep no frame", async () => {
  await using f = await fixture({ maxFrames: 2 });
  const frame = await jpeg(64, 48);
  await f.log.append(entry(0), frame);
  await f.log.append(entry(1), frame);
  await f.log.append(entry(2, { type: "click", args: { x: 1, y: 1 } }));
  await f.log.append(entry(3), frame);
  await f.log.append(entry(4), frame);
  const steps = f.log.list("dag-1", "look");
  assert.deepEqual(steps.map((s) => s.frame !== null), [false, false, false, true, true]);
  assert.equal(steps.length, 5, "the rows stay");
  assert.equal(await exists(`${f.dataDir}/frames/dag-1/look/1-0.jpg`), false);
  assert.equal(await exists(`${f.dataDir}/frames/dag-1/look/1-1.jpg`), false);
  assert.equal(await exists(`${f.dataDir}/frames/dag-1/look/1-3.jpg`), true);
  assert.equal(await exists(`${f.dataDir}/frames/dag-1/look/1-4.jpg`), true);
  assert.equal(await f.log.frame("dag-1", "look", 1, 0), null);
  assert.deepEqual(await f.log.frame("dag-1", "look", 1, 4), frame.image);
});

Deno.test("retention counts frames across DAGs and still holds when many are written at once", async () => {
  await using f = await fixture({ maxFrames: 3 });
  const frame = await jpeg(64, 48);
  await Promise.all(
    Array.from({ length: 8 }, (_, i) => f.log.append(entry(i, { dagId: `dag-${i % 2}` }), frame)),
  );
  const kept = [0, 1].flatMap((d) => f.log.list(`dag-${d}`, "look")).filter((s) => s.frame !== null);
  assert.deepEqual(kept.map((s) => s.index).sort(), [5, 6, 7]);
  const files = [];
  for (const d of [0, 1]) {
    for await (const file of Deno.readDir(`${f.dataDir}/frames/dag-${d}/look`)) files.push(file.name);
  }
  assert.deepEqual(files.sort(), ["1-5.jpg", "1-6.jpg", "1-7.jpg"]);
});

Deno.test("maxFrames 0 keeps the steps and no frame", async () => {
  await using f = await fixture({ maxFrames: 0 });
  await f.log.append(entry(0), await jpeg(64, 48));
  assert.equal(f.log.list("dag-1", "look")[0].frame, null);
  assert.equal(await exists(`${f.dataDir}/frames`), false);
});

Deno.test("output and args over 64 KiB are kept as a truncated marker with the text's beginning", async () => {
  await using f = await fixture();
  const long = "é".repeat(100_000);
  await f.log.append(entry(0, { type: "type", args: { text: long }, output: { stdout: long } }));
  const [step] = f.log.list("dag-1", "look");
  const kept = [[step.args, { text: long }], [step.output, { stdout: long }]] as const;
  for (const [value, original] of kept as unknown as Array<[Record<string, unknown>, unknown]>) {
    const text = JSON.stringify(original);
    assert.equal(value.truncated, true);
    assert.equal(value.byteLength, new TextEncoder().encode(text).byteLength);
    assert.ok(text.startsWith(value.head as string), "the head is the JSON text's beginning");
    assert.ok(new TextEncoder().encode(JSON.stringify(value)).byteLength <= MAX_STEP_JSON_BYTES);
    assert.ok((value.head as string).length > 20_000, "most of the room is used");
  }
});

Deno.test("capJson() keeps short values as they are and marks values JSON cannot hold", () => {
  assert.equal(capJson({ a: 1 }), '{"a":1}');
  assert.equal(capJson(undefined), "null");
  assert.match(JSON.parse(capJson({ n: 1n })).unserializable, /BigInt/);
  assert.equal(JSON.parse(capJson("x".repeat(100), 50)).truncated, true);
});

Deno.test("a store that refuses the row does not throw into the caller: a warning, the health told, no file", async () => {
  await using f = await fixture();
  // What a full disk looks like to the step log: SQLite refuses the INSERT with its own message.
  f.db.exec(`CREATE TRIGGER refuse BEFORE INSERT ON step_log BEGIN
    SELECT RAISE(FAIL, 'database or disk is full'); END;`);
  const published: unknown[] = [];
  f.events.subscribe((event) => published.push(event));
  const appended = f.log.append(entry(0), await jpeg(64, 48));
  await appended;
  assert.deepEqual(f.log.list("dag-1", "look"), []);
  assert.deepEqual(f.refused.map((e) => e.code), ["storage-full"]);
  const warning = f.logger.lines.find((l) => l.level === "warn");
  assert.match(warning?.message ?? "", /Cannot log a step: the store refused it/);
  assert.equal(warning?.fields?.index, 0);
  assert.deepEqual(published, [], "no event for a step that was not stored");
  assert.equal(f.events.since(0).length, 0, "the event rolled back with the row");
  assert.equal(await exists(`${f.dataDir}/frames`), false);
  f.db.exec("DROP TRIGGER refuse");
  await f.log.append(entry(1));
  assert.deepEqual(f.log.list("dag-1", "look").map((s) => s.index), [1], "the next step is logged");
});

Deno.test("a frame that cannot be written leaves its step logged without one", async () => {
  await using f = await fixture();
  await Deno.writeTextFile(`${f.dataDir}/frames`, "a file where the frames folder should be");
  await f.log.append(entry(0), await jpeg(64, 48));
  const [step] = f.log.list("dag-1", "look");
  assert.equal(step.frame, null);
  assert.match(f.logger.lines.find((l) => l.level === "warn")?.message ?? "", /Cannot keep a step's frame/);
});

Deno.test("a frame that cannot be encoded leaves its step logged without one", async () => {
  await using f = await fixture();
  await f.log.append(entry(0), frameOf("png", new Uint8Array([1, 2, 3]), 10, 10));
  assert.equal(f.log.list("dag-1", "look")[0].frame, null);
  assert.equal(await f.log.frame("dag-1", "look", 1, 0), null);
});

Deno.test("each step is a 'step' event in the transitions' id sequence and in its DAG's query", async () => {
  await using f = await fixture();
  const transition = f.events.append("dag-1", 999, {
    kind: "node",
    nodeId: "look",
    from: "ready",
    to: "running",
  });
  const published: number[] = [];
  f.events.subscribe((event) => published.push(event.id));
  await f.log.append(entry(0, { output: { big: "y".repeat(10_000) } }), await jpeg(64, 48));
  const [event] = f.events.since(transition.id, "dag-1");
  assert.equal(event.id, transition.id + 1);
  assert.deepEqual(published, [event.id]);
  assert.equal(isStepEvent(event), true);
  assert.equal(isStepEvent(transition), false);
  assert.equal(event.atMs, 1005);
  assert.deepEqual({ ...event.data, output: null }, {
    kind: "step",
    nodeId: "look",
    attempt: 1,
    index: 0,
    type: "frame",
    args: { format: "jpeg" },
    startedAt: 1000,
    endedAt: 1005,
    ok: true,
    error: null,
    output: null,
    frame: frameUrl("dag-1", "look", 1, 0),
  });
  assert.equal((event.data.output as { truncated: boolean }).truncated, true, "events carry at most 4 KiB");
});

Deno.test("a step logged again (same attempt and index) replaces the earlier row", async () => {
  await using f = await fixture();
  await f.log.append(entry(0), await jpeg(64, 48));
  await f.log.append(entry(0, { type: "click", args: { x: 1, y: 2 } }));
  const steps = f.log.list("dag-1", "look");
  assert.deepEqual(steps.map((s) => [s.index, s.type, s.frame]), [[0, "click", null]]);
  assert.equal(await exists(`${f.dataDir}/frames/dag-1/look/1-0.jpg`), false, "its old frame is gone");
});

Deno.test("node ids '.' and '..' get frame folders of their own inside the frames folder", async () => {
  await using f = await fixture();
  const frame = await jpeg(64, 48);
  await f.log.append(entry(0, { nodeId: ".." }), frame);
  await f.log.append(entry(0, { nodeId: "." }), frame);
  assert.equal(await exists(`${f.dataDir}/frames/dag-1/%2E./1-0.jpg`), true);
  assert.equal(await exists(`${f.dataDir}/frames/dag-1/%2E/1-0.jpg`), true);
  assert.deepEqual(await f.log.frame("dag-1", "..", 1, 0), frame.image);
});
