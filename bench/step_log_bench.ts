/**
 * The step log's costs, on a real store file (WAL, as the server opens it) in a temp dir:
 * - a step without a frame: its row and its `step` event in one transaction (steps/s, µs each);
 * - a step with a small JPEG kept byte for byte (the file write is the cost);
 * - a step with a 1920×1080 PNG or JPEG re-encoded to 1280 px with sharp (ms each, bytes kept);
 * - retention at the limit: each new frame deletes the oldest (µs per append over the no-retention case);
 * - `list()` of a node with 1,000 steps.
 * Settings: BENCH_STEPS (default 5,000), BENCH_FRAMES (default 200).
 */
import sharp from "sharp";
import { silentLogger } from "../server/log.ts";
import { EVENT_LOG_MIGRATIONS, EventLog } from "../server/orion/event_log.ts";
import { openDatabase } from "../server/store/db.ts";
import { STEP_LOG_MIGRATIONS, StepLog } from "../server/brain/step_log.ts";
import type { Frame, StepEntry } from "../server/brain/types.ts";

const env = (name: string, fallback: number) => Number(Deno.env.get(name) ?? fallback);
const STEPS = env("BENCH_STEPS", 5000);
const FRAMES = env("BENCH_FRAMES", 200);

function entry(dagId: string, index: number): StepEntry {
  return {
    dagId,
    nodeId: "n",
    attempt: 1,
    index,
    type: "click",
    args: { x: index % 1000, y: 7, button: "left", double: false },
    startedAt: 1_700_000_000_000 + index,
    endedAt: 1_700_000_000_001 + index,
    ok: true,
    error: null,
    output: { ok: true },
  };
}

/**
 * A desktop-like image: a flat background, three windows with title bars, and rows of dark dashes for
 * text (a fixed pattern), so it compresses like a screen rather than like noise.
 */
async function screen(format: "png" | "jpeg", width: number, height: number): Promise<Frame> {
  const raw = new Uint8Array(width * height * 3).fill(0x3a);
  const fill = (x0: number, y0: number, w: number, h: number, value: number) => {
    for (let y = y0; y < Math.min(height, y0 + h); y++) {
      raw.fill(value, (y * width + x0) * 3, (y * width + Math.min(width, x0 + w)) * 3);
    }
  };
  for (const [x, y, w, h] of [[0.05, 0.05, 0.5, 0.6], [0.4, 0.2, 0.55, 0.7], [0.1, 0.7, 0.3, 0.25]]) {
    const [wx, wy, ww, wh] = [x * width, y * height, w * width, h * height].map(Math.floor);
    fill(wx, wy, ww, wh, 0xf2);
    fill(wx, wy, ww, 28, 0xc8);
    for (let line = wy + 40; line < wy + wh - 16; line += 18) {
      for (let word = wx + 12; word < wx + ww - 60; word += 40 + ((line * 31 + word) % 37)) {
        fill(word, line, 20 + ((word * 13 + line) % 30), 9, 0x20);
      }
    }
  }
  const base = sharp(raw, { raw: { width, height, channels: 3 } });
  const image = format === "png" ? await base.png().toBuffer() : await base.jpeg({ quality: 80 }).toBuffer();
  return {
    format,
    image: new Uint8Array(image),
    width,
    height,
    originalWidth: width,
    originalHeight: height,
    capturedAtMs: 0,
  };
}

async function withLog<T>(maxFrames: number, run: (log: StepLog, dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "alien3-steplog-bench-" });
  const db = openDatabase(dir, [...EVENT_LOG_MIGRATIONS, ...STEP_LOG_MIGRATIONS]);
  const log = new StepLog({ db, dataDir: dir, logger: silentLogger, events: new EventLog(db), maxFrames });
  try {
    return await run(log, dir);
  } finally {
    await log.close();
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function timed(count: number, each: (i: number) => Promise<void>): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < count; i++) await each(i);
  return (performance.now() - started) / count;
}

const rows: string[][] = [];
const row = (what: string, perStepMs: number, extra = "") =>
  rows.push([what, `${(perStepMs * 1000).toFixed(0)} µs`, `${Math.round(1000 / perStepMs)}/s`, extra]);

await withLog(2000, async (log) => {
  row(
    "step without a frame (row + event, one transaction)",
    await timed(STEPS, (i) => log.append(entry("d", i))),
  );
});

const small = await screen("jpeg", 640, 400);
// Warm-up: the first frame loads nothing (kept as is) but the first re-encode loads sharp.
await withLog(1_000_000, async (log) => void await log.append(entry("w", 0), await screen("png", 64, 64)));
await withLog(1_000_000, async (log) => {
  const ms = await timed(FRAMES, (i) => log.append(entry("d", i), small));
  row("step with a 640×400 JPEG kept as is", ms, `${small.image.byteLength} B each`);
});

for (const format of ["png", "jpeg"] as const) {
  const big = await screen(format, 1920, 1080);
  await withLog(1_000_000, async (log, dir) => {
    const ms = await timed(Math.min(FRAMES, 50), (i) => log.append(entry("d", i), big));
    const kept = (await Deno.stat(`${dir}/frames/d/n/1-0.jpg`)).size;
    row(
      `step with a 1920×1080 ${format.toUpperCase()} re-encoded to 1280 px`,
      ms,
      `${big.image.byteLength} B in, ${kept} B kept`,
    );
  });
}

await withLog(FRAMES, async (log) => {
  for (let i = 0; i < FRAMES; i++) await log.append(entry("fill", i), small);
  const ms = await timed(FRAMES, (i) => log.append(entry("d", i), small));
  row(`step with a kept JPEG at the retention limit (${FRAMES} frames: one deleted per append)`, ms);
});

await withLog(2000, async (log) => {
  for (let i = 0; i < 1000; i++) await log.append(entry("d", i));
  const ms = await timed(200, () => Promise.resolve(void log.list("d", "n")));
  rows.push(["list() of a node with 1,000 steps", `${(ms * 1000).toFixed(0)} µs`, "", ""]);
});

console.log("| step log | per call | rate | |");
console.log("| --- | ---: | ---: | --- |");
for (const cells of rows) console.log(`| ${cells.join(" | ")} |`);
