/**
 * Finding a phrase among the words OCR read: case-insensitive, whitespace-normalised, punctuation at word
 * edges ignored, and across adjacent words of one line in reading order. OCR splits and joins words ("Quar"
 * "terly", or "Quarterlyreport"), so a match compares the phrase and a run of words with their spaces removed:
 * a run matches when its letters are the phrase's letters. Pure: words in, matches out.
 */
import type { TextMatch } from "./steps.ts";
import type { OcrWord, ScreenText } from "./types.ts";

/** Lowercase letters and digits only (what a comparison looks at). */
function squeeze(text: string): string {
  return text.toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "").replace(/[^\p{L}\p{N}]+/gu, "");
}

/** Groups words into lines (vertical overlap of at least half the smaller height), each sorted left to right. */
export function lines(words: readonly OcrWord[]): OcrWord[][] {
  const sorted = words.filter((w) => squeeze(w.text) !== "").sort((a, b) =>
    a.y + a.height / 2 - (b.y + b.height / 2)
  );
  const out: Array<{ top: number; bottom: number; words: OcrWord[] }> = [];
  for (const word of sorted) {
    const line = out.find((l) => {
      const overlap = Math.min(l.bottom, word.y + word.height) - Math.max(l.top, word.y);
      return overlap >= Math.min(l.bottom - l.top, word.height) / 2;
    });
    if (line) {
      line.words.push(word);
      line.top = Math.min(line.top, word.y);
      line.bottom = Math.max(line.bottom, word.y + word.height);
    } else out.push({ top: word.y, bottom: word.y + word.height, words: [word] });
  }
  return out.sort((a, b) => a.top - b.top).map((l) => l.words.sort((a, b) => a.x - b.x));
}

/** Every place the phrase is on screen, in reading order, with its box and centre (device pixels). */
export function findText(screen: ScreenText, phrase: string): TextMatch[] {
  const wanted = squeeze(phrase);
  if (wanted === "") return [];
  const matches: TextMatch[] = [];
  for (const line of lines(screen.words)) {
    for (let start = 0; start < line.length; start++) {
      let joined = "";
      for (let end = start; end < line.length; end++) {
        if (end > start) {
          // Adjacent: the gap to the next word is at most twice the line's height.
          const gap = line[end].x - (line[end - 1].x + line[end - 1].width);
          if (gap > 2 * Math.max(line[end].height, line[end - 1].height)) break;
        }
        joined += squeeze(line[end].text);
        if (joined === wanted) {
          matches.push(boxOf(line.slice(start, end + 1)));
          break;
        }
        if (!wanted.startsWith(joined)) break;
      }
    }
  }
  return matches;
}

function boxOf(words: readonly OcrWord[]): TextMatch {
  const x = Math.min(...words.map((w) => w.x));
  const y = Math.min(...words.map((w) => w.y));
  const right = Math.max(...words.map((w) => w.x + w.width));
  const bottom = Math.max(...words.map((w) => w.y + w.height));
  return {
    text: words.map((w) => w.text).join(" "),
    x,
    y,
    width: right - x,
    height: bottom - y,
    center: { x: Math.round((x + right) / 2), y: Math.round((y + bottom) / 2) },
  };
}
