/**
 * Tesseract's TSV output to words in device pixels. Pure. The TSV has one row per page, block, paragraph,
 * line and word (`level` 1–5); only word rows (level 5) carry text and a confidence.
 */
import type { OcrWord } from "./types.ts";

/** How the OCR'd image relates to the device's screen, and what counts as noise. */
export interface TsvMapping {
  /** Device pixels per pixel of the image Tesseract read, across and down. */
  scaleX: number;
  scaleY: number;
  /** The device's screen size: boxes are clipped to it. */
  screenWidth: number;
  screenHeight: number;
  /** Words below this confidence (0..100) are dropped (default 10). */
  minConfidence?: number;
  /** Words without a letter or digit below this confidence are dropped (default 60): borders read as "|". */
  minSymbolConfidence?: number;
}

/** The columns of Tesseract's TSV, in order. */
export const TSV_COLUMNS = [
  "level",
  "page_num",
  "block_num",
  "par_num",
  "line_num",
  "word_num",
  "left",
  "top",
  "width",
  "height",
  "conf",
  "text",
] as const;

const WORD_LEVEL = 5;
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

/** The result of parsing: words, or why the output is not Tesseract's TSV. */
export type TsvResult = { ok: true; words: OcrWord[] } | { ok: false; error: string };

/**
 * Parses Tesseract's TSV (`tesseract … tsv`) into words with boxes in device pixels, in Tesseract's
 * order. Drops empty words and noise (see `TsvMapping`). Never throws: output that does not start with
 * Tesseract's header, or a word row with a non-numeric box, is an error naming the line.
 */
export function parseTesseractTsv(tsv: string, mapping: TsvMapping): TsvResult {
  const minConfidence = mapping.minConfidence ?? 10;
  const minSymbolConfidence = mapping.minSymbolConfidence ?? 60;
  const lines = tsv.split(/\r?\n/);
  if (lines[0]?.trim() !== TSV_COLUMNS.join("\t")) {
    return { ok: false, error: `line 1 is not the TSV header: ${JSON.stringify(lines[0]?.slice(0, 80))}` };
  }
  const words: OcrWord[] = [];
  for (let index = 1; index < lines.length; index++) {
    const line = lines[index];
    if (line === "") continue;
    const cells = line.split("\t");
    if (Number(cells[0]) !== WORD_LEVEL) continue;
    const [left, top, width, height, confidence] = cells.slice(6, 11).map(Number);
    if (cells.length < TSV_COLUMNS.length || ![left, top, width, height, confidence].every(Number.isFinite)) {
      return {
        ok: false,
        error: `line ${index + 1} is not a word row: ${JSON.stringify(line.slice(0, 80))}`,
      };
    }
    // The text is the last column; a tab inside it cannot occur (Tesseract splits words on white space).
    const text = cells.slice(11).join("\t").trim();
    if (text === "" || confidence < minConfidence) continue;
    if (!LETTER_OR_DIGIT.test(text) && confidence < minSymbolConfidence) continue;
    const box = toDevice(left, top, width, height, mapping);
    if (box.width <= 0 || box.height <= 0) continue;
    words.push({ text, ...box, confidence });
  }
  return { ok: true, words };
}

/** An image box to device pixels: edges scaled outwards to whole pixels, clipped to the screen. */
function toDevice(left: number, top: number, width: number, height: number, mapping: TsvMapping) {
  const x = clamp(Math.floor(left * mapping.scaleX), mapping.screenWidth);
  const y = clamp(Math.floor(top * mapping.scaleY), mapping.screenHeight);
  const right = clamp(Math.ceil((left + width) * mapping.scaleX), mapping.screenWidth);
  const bottom = clamp(Math.ceil((top + height) * mapping.scaleY), mapping.screenHeight);
  return { x, y, width: right - x, height: bottom - y };
}

function clamp(value: number, max: number): number {
  return Math.min(Math.max(value, 0), max);
}
