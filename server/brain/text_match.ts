/**
 * Finds a phrase in the words an OCR engine read: case-insensitive, whitespace-normalised, punctuation at
 * word edges ignored, across adjacent words of one line in reading order. Pure: words in, matches out.
 *
 * Spaces are not trusted: OCR splits a word ("Quar" "terly") and joins two ("Quarterlyreport"), so a
 * phrase matches when its letters, spaces removed, equal those of a run of adjacent words, spaces removed,
 * and the match starts at the start of a word and ends at the end of one. "port" therefore never matches
 * inside "report", but "carpet" does match the adjacent words "car" "pet" (and "car pet" the word
 * "carpet"). Words are not corrected: a word OCR misread ("Ouarterly") does not match.
 */
import type { OcrWord, ScreenText } from "./types.ts";

/** A rectangle in device pixels. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** One place a phrase was found. */
export interface TextMatch {
  /** The matched words as read, joined by single spaces. */
  text: string;
  /** The matched words, in reading order. */
  words: OcrWord[];
  /** The union of the words' boxes. */
  box: Box;
  /** The box's centre (rounded down), where a click on the text goes. */
  centre: { x: number; y: number };
  /** The lowest confidence among the words. */
  confidence: number;
}

/** Settings of the matcher. */
export interface MatchOptions {
  /**
   * Largest horizontal gap between two words of one phrase, as a multiple of the taller word's height
   * (default 1.5: a space is well under one height; the next column or button is further).
   */
  maxGapRatio?: number;
}

const DEFAULT_MAX_GAP_RATIO = 1.5;
const EDGE_PUNCTUATION = /^[\p{P}\p{S}]+|[\p{P}\p{S}]+$/gu;

/** A word's or phrase token's comparable form: NFKC, lower case, punctuation at its edges removed. */
export function normaliseWord(text: string): string {
  return text.normalize("NFKC").toLowerCase().replace(EDGE_PUNCTUATION, "");
}

/** A phrase's comparable tokens: split on any whitespace, each normalised; tokens left empty are dropped. */
export function phraseTokens(phrase: string): string[] {
  return phrase.split(/\s+/u).map(normaliseWord).filter((token) => token !== "");
}

/**
 * Every place `phrase` appears, in reading order (lines top to bottom, left to right). An empty phrase
 * (or one of punctuation only) matches nothing.
 */
export function findText(
  screen: ScreenText | readonly OcrWord[],
  phrase: string,
  options: MatchOptions = {},
): TextMatch[] {
  const wanted = phraseTokens(phrase).join("");
  if (wanted === "") return [];
  const words = "words" in screen ? screen.words : screen;
  const matches: TextMatch[] = [];
  for (const run of textRuns(words, options)) {
    const keys = run.map((word) => normaliseWord(word.text));
    for (let first = 0; first < run.length; first++) {
      if (keys[first] === "") continue;
      let joined = "";
      for (let last = first; last < run.length && joined.length < wanted.length; last++) {
        joined += keys[last];
        if (joined === wanted && keys[last] !== "") {
          matches.push(toMatch(run.slice(first, last + 1).filter((_, i) => keys[first + i] !== "")));
          break;
        }
        if (!wanted.startsWith(joined)) break;
      }
    }
  }
  return matches;
}

/** Whether `phrase` appears anywhere on the screen. */
export function screenContains(
  screen: ScreenText | readonly OcrWord[],
  phrase: string,
  options: MatchOptions = {},
): boolean {
  return findText(screen, phrase, options).length > 0;
}

/**
 * Words grouped into runs a phrase may span: the same line (boxes overlapping vertically by at least half
 * the shorter one) and horizontally close (gap at most `maxGapRatio` × the taller height); each run left
 * to right, runs in reading order.
 */
export function textRuns(words: readonly OcrWord[], options: MatchOptions = {}): OcrWord[][] {
  const maxGapRatio = options.maxGapRatio ?? DEFAULT_MAX_GAP_RATIO;
  const lines: Array<{ top: number; bottom: number; words: OcrWord[] }> = [];
  const byTop = [...words].sort((a, b) => a.y - b.y || a.x - b.x);
  for (const word of byTop) {
    const line = lines.find((candidate) =>
      candidate.words.some((other) => verticalOverlap(word, other) >= Math.min(word.height, other.height) / 2)
    );
    if (line === undefined) {
      lines.push({ top: word.y, bottom: word.y + word.height, words: [word] });
    } else {
      line.words.push(word);
      line.top = Math.min(line.top, word.y);
      line.bottom = Math.max(line.bottom, word.y + word.height);
    }
  }
  const runs: Array<{ top: number; words: OcrWord[] }> = [];
  for (const line of lines) {
    const sorted = line.words.sort((a, b) => a.x - b.x);
    let run: OcrWord[] = [];
    for (const word of sorted) {
      const previous = run.at(-1);
      if (previous !== undefined) {
        const gap = word.x - (previous.x + previous.width);
        if (gap > maxGapRatio * Math.max(word.height, previous.height)) {
          runs.push({ top: line.top, words: run });
          run = [];
        }
      }
      run.push(word);
    }
    if (run.length > 0) runs.push({ top: line.top, words: run });
  }
  return runs.sort((a, b) => a.top - b.top || a.words[0].x - b.words[0].x).map((run) => run.words);
}

function verticalOverlap(a: OcrWord, b: OcrWord): number {
  return Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
}

/** The union of boxes. */
export function unionBox(boxes: readonly Box[]): Box {
  const x = Math.min(...boxes.map((box) => box.x));
  const y = Math.min(...boxes.map((box) => box.y));
  const right = Math.max(...boxes.map((box) => box.x + box.width));
  const bottom = Math.max(...boxes.map((box) => box.y + box.height));
  return { x, y, width: right - x, height: bottom - y };
}

function toMatch(words: OcrWord[]): TextMatch {
  const box = unionBox(words);
  return {
    text: words.map((word) => word.text).join(" "),
    words,
    box,
    centre: { x: Math.floor(box.x + box.width / 2), y: Math.floor(box.y + box.height / 2) },
    confidence: Math.min(...words.map((word) => word.confidence)),
  };
}
