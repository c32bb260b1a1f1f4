/**
 * Screen text per 1280×800 frame: the chosen engine (the `tesseract` CLI on a prepared frame) against
 * tesseract.js (WebAssembly, local eng data from npm) on the same prepared image, the preparation (sharp)
 * on its own, and the CLI on the raw frame. Frames are real: an xmessage window on Xvnc, captured by the
 * Node helper as JPEG (quality 80) at scale 1 and 0.5. Each row also says whether the label ("Quarterly
 * report ready") and the button ("Proceed") were found in its last run.
 */
import { decodeBase64 } from "../shared/base64.ts";
import { HelperProcess } from "../client/helper_process.ts";
import { systemClock } from "../shared/clock.ts";
import { TesseractOcr } from "../server/brain/ocr.ts";
import { prepareFrame } from "../server/brain/ocr_preprocess.ts";
import { loadSharp } from "../server/brain/sharp.ts";
import { runProcess } from "../server/brain/run_process.ts";
import { parseTesseractTsv } from "../server/brain/tesseract_tsv.ts";
import { screenContains } from "../server/brain/text_match.ts";
import type { Frame, OcrWord } from "../server/brain/types.ts";
import { startXServer } from "../tests/helpers/xvnc.ts";

const RUNS = 15;

interface Row {
  what: string;
  frame: string;
  times: number[];
  words?: OcrWord[];
}

const x = await startXServer();
const message = new Deno.Command("xmessage", {
  args: ["-center", "-fn", "10x20", "-buttons", "Proceed", "-name", "alien3-ocr", "Quarterly report ready"],
  env: { DISPLAY: x.display },
  stdout: "null",
  stderr: "null",
}).spawn();
const helper = new HelperProcess({ env: { DISPLAY: x.display } });
const rows: Row[] = [];
let workerMs = Number.NaN;
try {
  while (!(await x.run("xdotool", ["search", "--onlyvisible", "--name", "alien3-ocr"]).catch(() => ""))) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const capture = async (scale: number): Promise<Frame> => {
    const { image, ...meta } = await helper.request<Omit<Frame, "image"> & { image: string }>("capture", {
      format: "jpeg",
      scale,
      quality: 80,
    });
    return { ...meta, image: decodeBase64(image) };
  };
  const frames: Array<[string, Frame]> = [["jpeg 1280x800", await capture(1)], [
    "jpeg 640x400",
    await capture(0.5),
  ]];

  const time = async <T>(row: Row, run: () => Promise<T>): Promise<T> => {
    let last: T | undefined;
    await run(); // warm-up, not counted
    for (let i = 0; i < RUNS; i++) {
      const started = performance.now();
      last = await run();
      row.times.push(performance.now() - started);
    }
    return last!;
  };

  await loadSharp();
  for (const [name, frame] of frames) {
    const row: Row = {
      what: "prepare only (sharp: grey, 2x device size, sharpen, PGM)",
      frame: name,
      times: [],
    };
    await time(row, () => prepareFrame(frame, 2));
    rows.push(row);
  }

  const engine = new TesseractOcr();
  for (const [name, frame] of frames) {
    const row: Row = { what: "tesseract CLI engine, prepare + OCR (chosen; psm 3)", frame: name, times: [] };
    row.words = (await time(row, () => engine.read(frame))).words;
    rows.push(row);
  }

  const raw: Row = { what: "tesseract CLI, raw frame, OCR only (psm 11)", frame: frames[0][0], times: [] };
  raw.words = await time(raw, async () => {
    const run = await runProcess("tesseract", ["stdin", "stdout", "--psm", "11", "tsv"], {
      stdin: frames[0][1].image,
      env: { OMP_THREAD_LIMIT: "1" },
      timeoutMs: 60_000,
      timers: systemClock,
    });
    const parsed = parseTesseractTsv(run.stdout, {
      scaleX: 1,
      scaleY: 1,
      screenWidth: 1280,
      screenHeight: 800,
    });
    if (!parsed.ok) throw new Error(parsed.error);
    return parsed.words;
  });
  rows.push(raw);

  // tesseract.js in its own process and config (see bench/tesseract_js/read.ts), on the same prepared images.
  const dir = await Deno.makeTempDir({ prefix: "alien3-ocr-bench-" });
  try {
    const images: Array<{ name: string; path: string; mapping: Record<string, number> }> = [];
    for (const [name, frame] of frames) {
      const image = await prepareFrame(frame, 2);
      const path = `${dir}/${images.length}.pgm`;
      await Deno.writeFile(path, image.pgm);
      const mapping = {
        scaleX: image.scaleX,
        scaleY: image.scaleY,
        screenWidth: frame.originalWidth,
        screenHeight: frame.originalHeight,
      };
      images.push({ name, path, mapping });
    }
    const here = new URL(".", import.meta.url).pathname;
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "--config",
        `${here}tesseract_js/deno.json`,
        `${here}tesseract_js/read.ts`,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(JSON.stringify({ runs: RUNS, images })));
    await writer.close();
    const output = await child.output();
    if (output.code !== 0) {
      console.error(`tesseract.js baseline failed:\n${new TextDecoder().decode(output.stderr).slice(-2000)}`);
    } else {
      const report = JSON.parse(new TextDecoder().decode(output.stdout));
      workerMs = report.workerMs;
      for (const result of report.results) {
        rows.push({
          what: "tesseract.js 7 (wasm worker), prepared image, OCR only",
          frame: result.name,
          ...result,
        });
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }

  const at = (times: number[], q: number) => [...times].sort((a, b) => a - b)[Math.floor(times.length * q)];
  console.log(`\n## Screen text per frame (xmessage on Xvnc, ${RUNS} runs each after one warm-up)`);
  console.log(
    `Load average at the end (1, 5, 15 min): ${Deno.loadavg().map((n) => n.toFixed(1)).join(", ")}`,
  );
  console.log("| what | frame | p50 ms | p95 ms | label found | button found |");
  console.log("| --- | --- | ---: | ---: | --- | --- |");
  for (const row of rows) {
    const found = (phrase: string) =>
      row.words === undefined ? "–" : screenContains(row.words, phrase) ? "yes" : "no";
    console.log(
      `| ${row.what} | ${row.frame} | ${at(row.times, 0.5).toFixed(0)} | ${
        at(row.times, 0.95).toFixed(0)
      } | ${found("Quarterly report ready")} | ${found("Proceed")} |`,
    );
  }
  console.log(`tesseract.js worker start (wasm + eng data from node_modules): ${workerMs.toFixed(0)} ms`);

  const parallel = performance.now();
  await Promise.all(Array.from({ length: 4 }, () => engine.read(frames[0][1])));
  console.log(
    `tesseract CLI, 4 reads of the 1280x800 frame at once (2 run, 2 wait): ${
      (performance.now() - parallel).toFixed(0)
    } ms wall`,
  );
} finally {
  await helper.close();
  try {
    message.kill("SIGTERM");
  } catch {
    // Gone.
  }
  await message.status;
  await x.stop();
}
