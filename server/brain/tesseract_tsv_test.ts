import assert from "node:assert/strict";
import { parseTesseractTsv, type TsvMapping } from "./tesseract_tsv.ts";

/** Tesseract 5.3's TSV for an xmessage window on a 1280×800 frame read at 2×, plus three noise rows. */
const TSV = [
  "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext",
  "1\t1\t0\t0\t0\t0\t0\t0\t2560\t1600\t-1\t",
  "2\t1\t1\t0\t0\t0\t1038\t744\t28\t2\t-1\t",
  "5\t1\t1\t1\t1\t1\t1038\t744\t28\t2\t95.000000\t ",
  "2\t1\t2\t0\t0\t0\t1074\t754\t436\t34\t-1\t",
  "3\t1\t2\t1\t0\t0\t1074\t754\t436\t34\t-1\t",
  "4\t1\t2\t1\t1\t0\t1074\t754\t436\t34\t-1\t",
  "5\t1\t2\t1\t1\t1\t1074\t754\t176\t34\t91.684555\tQuarterly",
  "5\t1\t2\t1\t1\t2\t1274\t758\t116\t30\t96.466522\treport",
  "5\t1\t2\t1\t1\t3\t1414\t754\t96\t34\t96.568039\tready",
  "5\t1\t3\t1\t1\t1\t1048\t818\t136\t26\t83.685249\tProceed)",
  "5\t1\t4\t1\t1\t1\t1038\t744\t6\t50\t30.000000\t|",
  "5\t1\t5\t1\t1\t1\t1500\t900\t40\t30\t4.100000\tHouarterly",
  "5\t1\t6\t1\t1\t1\t10\t10\t20\t20\t88.000000\t—",
  "",
].join("\n");

const FULL: TsvMapping = { scaleX: 0.5, scaleY: 0.5, screenWidth: 1280, screenHeight: 800 };

Deno.test("parseTesseractTsv() keeps word rows with text and maps 2× boxes back to device pixels", () => {
  const result = parseTesseractTsv(TSV, FULL);
  assert.ok(result.ok);
  assert.deepEqual(result.words.map((w) => [w.text, w.x, w.y, w.width, w.height, Math.round(w.confidence)]), [
    ["Quarterly", 537, 377, 88, 17, 92],
    ["report", 637, 379, 58, 15, 96],
    ["ready", 707, 377, 48, 17, 97],
    ["Proceed)", 524, 409, 68, 13, 84],
    ["—", 5, 5, 10, 10, 88],
  ]);
});

Deno.test("parseTesseractTsv() drops blank words, low-confidence words and weak symbol-only words", () => {
  const result = parseTesseractTsv(TSV, { ...FULL, minConfidence: 0, minSymbolConfidence: 0 });
  assert.ok(result.ok);
  assert.deepEqual(result.words.map((w) => w.text), [
    "Quarterly",
    "report",
    "ready",
    "Proceed)",
    "|",
    "Houarterly",
    "—",
  ]);
  const strict = parseTesseractTsv(TSV, { ...FULL, minConfidence: 90, minSymbolConfidence: 90 });
  assert.ok(strict.ok);
  assert.deepEqual(strict.words.map((w) => w.text), ["Quarterly", "report", "ready"]);
});

Deno.test("parseTesseractTsv() rounds a box on odd image pixels outwards to whole device pixels", () => {
  // 1075 × 0.5 = 537.5 → 537; (1075 + 175) × 0.5 = 625 → width 88.
  const tsv = TSV.split("\n").slice(0, 1).concat("5\t1\t1\t1\t1\t1\t1075\t755\t175\t33\t91\tQuarterly").join(
    "\n",
  );
  const result = parseTesseractTsv(tsv, FULL);
  assert.ok(result.ok);
  assert.deepEqual(result.words[0], {
    text: "Quarterly",
    x: 537,
    y: 377,
    width: 88,
    height: 17,
    confidence: 91,
  });
});

Deno.test("parseTesseractTsv() clips boxes to the screen and drops boxes wholly outside it", () => {
  const tsv = TSV.split("\n").slice(0, 1).concat(
    "5\t1\t1\t1\t1\t1\t2540\t1590\t60\t40\t90\tedge",
    "5\t1\t1\t1\t1\t2\t2600\t100\t60\t40\t90\toutside",
  ).join("\n");
  const result = parseTesseractTsv(tsv, FULL);
  assert.ok(result.ok);
  assert.deepEqual(result.words, [{ text: "edge", x: 1270, y: 795, width: 10, height: 5, confidence: 90 }]);
});

Deno.test("parseTesseractTsv() refuses output without the header or with a broken word row, naming the line", () => {
  const noHeader = parseTesseractTsv("Error in pixReadMem\n", FULL);
  assert.deepEqual(noHeader, { ok: false, error: 'line 1 is not the TSV header: "Error in pixReadMem"' });
  const broken = parseTesseractTsv(
    TSV.split("\n").slice(0, 2).concat("5\t1\t1\t1\t1\t1\tx\t0\t1\t1\t90\tw").join("\n"),
    FULL,
  );
  assert.ok(!broken.ok);
  assert.match(broken.error, /^line 3 is not a word row/);
});

Deno.test("parseTesseractTsv() of an image without text is no words", () => {
  const empty = TSV.split("\n").slice(0, 2).join("\n") + "\n";
  assert.deepEqual(parseTesseractTsv(empty, FULL), { ok: true, words: [] });
});
