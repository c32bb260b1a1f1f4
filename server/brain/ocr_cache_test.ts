import assert from "node:assert/strict";
import sharp from "sharp";
import { CachedOcr } from "./ocr_cache.ts";
import { TesseractOcr } from "./ocr.ts";
import type { Frame } from "./types.ts";

/** A 640x200 PNG frame with `text` in big black letters on white, drawn by sharp's SVG renderer. */
async function textFrame(text: string): Promise<Frame> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="200">
    <rect width="100%" height="100%" fill="white"/>
    <text x="40" y="120" font-family="DejaVu Sans, sans-serif" font-size="48" fill="black">${text}</text>
  </svg>`;
  const image = new Uint8Array(await sharp(new TextEncoder().encode(svg)).png().toBuffer());
  return {
    format: "png",
    image,
    width: 640,
    height: 200,
    originalWidth: 640,
    originalHeight: 200,
    capturedAtMs: 0,
  };
}

function words(text: { words: Array<{ text: string }> }): string {
  return text.words.map((word) => word.text).join(" ");
}

Deno.test("an identical frame is read once by tesseract and then served from memory", async () => {
  const ocr = new CachedOcr(new TesseractOcr());
  const frame = await textFrame("Quarterly report");
  const first = await ocr.read(frame);
  assert.match(words(first), /Quarterly report/);
  assert.equal(first.cached, undefined);
  const second = await ocr.read({ ...frame, image: frame.image.slice(), capturedAtMs: 5 });
  assert.equal(second.cached, true);
  assert.equal(second.ms, 0);
  assert.deepEqual(second.words, first.words);
  assert.deepEqual(ocr.stats, { hits: 1, misses: 1 });
});

Deno.test("a different frame is read afresh, and two reads of one new frame at once share one engine read", async () => {
  const ocr = new CachedOcr(new TesseractOcr());
  await ocr.read(await textFrame("Quarterly report"));
  const other = await textFrame("Proceed");
  const [a, b] = await Promise.all([ocr.read(other), ocr.read(other)]);
  assert.match(words(a), /Proceed/);
  assert.deepEqual(a.words, b.words);
  assert.deepEqual(ocr.stats, { hits: 1, misses: 2 });
});

Deno.test("a read cancelled by its only caller is not remembered: the next read goes to the engine", async () => {
  const ocr = new CachedOcr(new TesseractOcr());
  const frame = await textFrame("Cancel me");
  const abort = new AbortController();
  const reading = ocr.read(frame, { signal: abort.signal });
  abort.abort(new Error("step cancelled"));
  await assert.rejects(reading, /step cancelled/);
  const again = await ocr.read(frame);
  assert.equal(again.cached, undefined);
  assert.match(words(again), /Cancel/);
  assert.deepEqual(ocr.stats, { hits: 0, misses: 2 });
});

Deno.test("the cache keeps only its capacity of frames, dropping the least recently read", async () => {
  const ocr = new CachedOcr(new TesseractOcr(), 1);
  const a = await textFrame("Alpha");
  const b = await textFrame("Bravo");
  await ocr.read(a);
  await ocr.read(b);
  const againA = await ocr.read(a);
  assert.equal(againA.cached, undefined);
  assert.deepEqual(ocr.stats, { hits: 0, misses: 3 });
});
