import assert from "node:assert/strict";
import sharp from "sharp";
import { fakeClock } from "../../shared/testing/fake_clock.ts";
import { FailureError } from "../../shared/protocol/mod.ts";
import { until } from "../../tests/helpers/gateway_harness.ts";
import { TesseractOcr } from "./ocr.ts";
import type { Frame } from "./types.ts";

const TSV_HEADER =
  "level\\tpage_num\\tblock_num\\tpar_num\\tline_num\\tword_num\\tleft\\ttop\\twidth\\theight\\tconf\\ttext";

/**
 * A stand-in `tesseract` (a shell script) for what the real one cannot be made to do on cue: hang until
 * told, or run long enough to be counted. It answers the probes like Tesseract 5, logs `start PID` once it
 * has read its stdin, waits for the file `release`, logs `end PID` and prints one word ("Fake" at 20,20
 * 60×20 in the image it read).
 */
async function standIn(): Promise<
  { binary: string; dir: string; log(): Promise<string[]>; release(): Promise<void> }
> {
  const dir = await Deno.makeTempDir({ prefix: "alien3-ocr-" });
  const binary = `${dir}/tesseract`;
  await Deno.writeTextFile(
    binary,
    `#!/bin/sh
case "$1" in
  --version) echo "tesseract 5.3.0"; exit 0;;
  --list-langs) echo 'List of available languages in "${dir}/" (1):'; echo eng; exit 0;;
esac
cat > /dev/null
echo "start $$" >> "${dir}/log"
while [ ! -f "${dir}/release" ]; do sleep 0.02; done
echo "end $$" >> "${dir}/log"
printf '${TSV_HEADER}\\n5\\t1\\t1\\t1\\t1\\t1\\t20\\t20\\t60\\t20\\t96\\tFake\\n'
`,
  );
  await Deno.chmod(binary, 0o755);
  return {
    binary,
    dir,
    log: async () => (await Deno.readTextFile(`${dir}/log`).catch(() => "")).split("\n").filter(Boolean),
    release: () => Deno.writeTextFile(`${dir}/release`, ""),
  };
}

async function frame(width = 320, height = 200, originalWidth = 640, originalHeight = 400): Promise<Frame> {
  const image = await sharp({ create: { width, height, channels: 3, background: "#ffffff" } }).png()
    .toBuffer();
  return { format: "png", image, width, height, originalWidth, originalHeight, capturedAtMs: 0 };
}

function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<FailureError> {
  const error = await promise.then(() => null, (error) => error);
  assert.ok(error instanceof FailureError, `expected a FailureError ${code}, got ${error}`);
  assert.equal(error.failure.code, code, error.failure.message);
  return error;
}

Deno.test("a missing tesseract binary is ocr-unavailable, found out once, and read() rejects with it", async () => {
  const engine = new TesseractOcr({ binary: "/nonexistent/alien3/tesseract" });
  const availability = await engine.available();
  assert.ok(!availability.ok);
  assert.equal(availability.failure.code, "ocr-unavailable");
  assert.match(
    availability.failure.message,
    /\/nonexistent\/alien3\/tesseract is not installed or not on PATH/,
  );
  assert.equal(engine.available(), engine.available(), "the answer is remembered");
  const error = await rejectsWith(engine.read(await frame()), "ocr-unavailable");
  assert.equal(error.failure.retryable, false);
});

Deno.test("tesseract without the asked language's data is ocr-unavailable naming the language", async () => {
  const engine = new TesseractOcr({ language: "eng+qqq" });
  const availability = await engine.available();
  assert.ok(!availability.ok);
  assert.match(availability.failure.message, /has no language data for qqq \(has: .*eng/);
});

Deno.test("the real tesseract is available and says its version", async () => {
  const availability = await new TesseractOcr().available();
  assert.ok(availability.ok, JSON.stringify(availability));
  assert.match(availability.version, /^\d+\.\d+/);
  assert.ok(availability.languages.includes("eng"));
});

Deno.test("read() maps the engine's boxes from the upscaled image back to device pixels", async () => {
  const fake = await standIn();
  try {
    await fake.release();
    // A 320×200 frame of a 640×400 screen is read at 1280×800: "Fake" at 20,20 60×20 there is 10,10 30×10.
    const text = await new TesseractOcr({ binary: fake.binary }).read(await frame());
    assert.deepEqual(text.words, [{ text: "Fake", x: 10, y: 10, width: 30, height: 10, confidence: 96 }]);
    assert.deepEqual([text.width, text.height, text.engine], [640, 400, "tesseract 5.3.0"]);
  } finally {
    await Deno.remove(fake.dir, { recursive: true });
  }
});

Deno.test("read() runs at most `concurrency` engines at once; the rest wait their turn", async () => {
  const fake = await standIn();
  try {
    const engine = new TesseractOcr({ binary: fake.binary, concurrency: 2 });
    const image = await frame();
    const reads = [1, 2, 3, 4].map(() => engine.read(image));
    await until(
      async () => (await fake.log()).length === 2 && engine.waiting === 2,
      "two running, two waiting",
      10_000,
    );
    assert.deepEqual((await fake.log()).map((line) => line.split(" ")[0]), ["start", "start"]);
    await fake.release();
    assert.equal((await Promise.all(reads)).length, 4);
    let running = 0, most = 0;
    for (const line of await fake.log()) {
      running += line.startsWith("start") ? 1 : -1;
      most = Math.max(most, running);
    }
    assert.equal(most, 2);
  } finally {
    await Deno.remove(fake.dir, { recursive: true });
  }
});

Deno.test("read() kills the engine when its signal aborts and rejects with cancelled", async () => {
  const fake = await standIn();
  try {
    const engine = new TesseractOcr({ binary: fake.binary });
    const stop = new AbortController();
    const reading = engine.read(await frame(), { signal: stop.signal });
    await until(async () => (await fake.log()).length === 1, "the engine to start", 10_000);
    const pid = Number((await fake.log())[0].split(" ")[1]);
    stop.abort();
    await rejectsWith(reading, "cancelled");
    assert.equal(alive(pid), false, "the process is gone");
  } finally {
    await Deno.remove(fake.dir, { recursive: true });
  }
});

Deno.test("a read waiting for a slot leaves the line when aborted and never starts an engine", async () => {
  const fake = await standIn();
  try {
    const engine = new TesseractOcr({ binary: fake.binary, concurrency: 1 });
    const image = await frame();
    const first = engine.read(image);
    const stop = new AbortController();
    const second = engine.read(image, { signal: stop.signal });
    await until(
      async () => (await fake.log()).length === 1 && engine.waiting === 1,
      "one running, one waiting",
      10_000,
    );
    stop.abort();
    await rejectsWith(second, "cancelled");
    assert.equal(engine.waiting, 0);
    await fake.release();
    await first;
    assert.deepEqual((await fake.log()).map((line) => line.split(" ")[0]), ["start", "end"]);
  } finally {
    await Deno.remove(fake.dir, { recursive: true });
  }
});

Deno.test("read() kills an engine that runs past timeoutMs and rejects with timeout", async () => {
  const fake = await standIn();
  const clock = fakeClock();
  try {
    const engine = new TesseractOcr({ binary: fake.binary, timeoutMs: 5000, timers: clock });
    const reading = engine.read(await frame());
    await until(async () => (await fake.log()).length === 1, "the engine to start", 10_000);
    const pid = Number((await fake.log())[0].split(" ")[1]);
    clock.tick(4999);
    assert.equal(alive(pid), true, "still running just before the limit");
    clock.tick(1);
    const error = await rejectsWith(reading, "timeout");
    assert.match(error.failure.message, /took longer than 5000 ms/);
    assert.equal(alive(pid), false, "the process is gone");
  } finally {
    await Deno.remove(fake.dir, { recursive: true });
  }
});

Deno.test("a frame that does not decode is a schema-violation, not a crash", async () => {
  const fake = await standIn();
  try {
    const broken: Frame = {
      ...(await frame()),
      format: "jpeg",
      image: new TextEncoder().encode("not a jpeg"),
    };
    const error = await rejectsWith(
      new TesseractOcr({ binary: fake.binary }).read(broken),
      "schema-violation",
    );
    assert.match(error.failure.message, /the frame is not a readable jpeg/);
    assert.deepEqual(await fake.log(), [], "no engine was started");
  } finally {
    await Deno.remove(fake.dir, { recursive: true });
  }
});
