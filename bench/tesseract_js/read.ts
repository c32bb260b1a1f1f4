/**
 * The tesseract.js baseline of bench/ocr_bench.ts, in its own process and config (bench/tesseract_js/
 * deno.json), so its npm packages (~50 MB of wasm and eng data) stay out of the server's lockfile and image.
 * Reads a job as JSON on stdin: prepared images (PGM files) and how they map to the screen; prints, as
 * JSON, the worker's start time and per image the ms of each run and the words of the last one.
 */
import Tesseract from "tesseract.js";
import engData from "@tesseract.js-data/eng";
import {
  parseTesseractTsv,
  TSV_COLUMNS,
  type TsvMapping,
} from "../../server/brain/tesseract_tsv.ts";
import type { OcrWord } from "../../server/brain/types.ts";

interface Job {
  runs: number;
  images: Array<{ name: string; path: string; mapping: TsvMapping }>;
}

const job: Job = JSON.parse(await new Response(Deno.stdin.readable).text());
const started = performance.now();
const worker = await Tesseract.createWorker("eng", Tesseract.OEM.LSTM_ONLY, {
  langPath: engData.langPath,
  gzip: engData.gzip,
  cacheMethod: "none",
});
// The CLI engine's settings: automatic page segmentation, 96 dpi.
await worker.setParameters({
  tessedit_pageseg_mode: Tesseract.PSM.AUTO,
  user_defined_dpi: "96",
});
const workerMs = performance.now() - started;
const results: Array<{ name: string; times: number[]; words: OcrWord[] }> = [];
try {
  for (const image of job.images) {
    const bytes = await Deno.readFile(image.path);
    const times: number[] = [];
    let words: OcrWord[] = [];
    for (let run = -1; run < job.runs; run++) {
      const begun = performance.now();
      const { data } = await worker.recognize(bytes, {}, { tsv: true });
      // tesseract.js's TSV lacks the CLI's header line.
      const parsed = parseTesseractTsv(
        `${TSV_COLUMNS.join("\t")}\n${data.tsv}`,
        image.mapping,
      );
      if (!parsed.ok) throw new Error(parsed.error);
      words = parsed.words;
      if (run >= 0) times.push(performance.now() - begun); // run -1 is the warm-up
    }
    results.push({ name: image.name, times, words });
  }
} finally {
  await worker.terminate();
}
console.log(JSON.stringify({ workerMs, results }));
