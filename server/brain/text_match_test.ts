import assert from "node:assert/strict";
import { findText, normaliseWord, phraseTokens, screenContains, textRuns } from "./text_match.ts";
import type { OcrWord, ScreenText } from "./types.ts";

/** A word of height 20 on the line at `y`, starting at `x`, 10 px per character. */
function word(text: string, x: number, y = 100, confidence = 90): OcrWord {
  return { text, x, y, width: text.length * 10, height: 20, confidence };
}

/** Words laid out left to right with one 10 px space between them. */
function line(text: string, x = 0, y = 100): OcrWord[] {
  const words: OcrWord[] = [];
  for (const part of text.split(" ")) {
    words.push(word(part, x, y));
    x += part.length * 10 + 10;
  }
  return words;
}

Deno.test("normaliseWord() lower-cases and drops punctuation at the edges only", () => {
  assert.equal(normaliseWord("(Proceed)"), "proceed");
  assert.equal(normaliseWord("ready."), "ready");
  assert.equal(normaliseWord("«Save»"), "save");
  assert.equal(normaliseWord("e-mail"), "e-mail");
  assert.equal(normaliseWord("|"), "");
  assert.equal(normaliseWord("ＡＢＣ"), "abc", "NFKC folds full-width letters");
});

Deno.test("phraseTokens() splits on any whitespace and drops punctuation-only tokens", () => {
  assert.deepEqual(phraseTokens("  Quarterly\treport\n ready  "), ["quarterly", "report", "ready"]);
  assert.deepEqual(phraseTokens("Save - Draft"), ["save", "draft"]);
  assert.deepEqual(phraseTokens(" ... "), []);
});

Deno.test("findText() finds a multi-word phrase with the union box and its centre", () => {
  const words = line("Quarterly report ready", 500, 370);
  const [match, ...rest] = findText(words, "quarterly  REPORT ready");
  assert.equal(rest.length, 0);
  assert.equal(match.text, "Quarterly report ready");
  assert.deepEqual(match.box, { x: 500, y: 370, width: 220, height: 20 });
  assert.deepEqual(match.centre, { x: 610, y: 380 });
  assert.equal(match.words.length, 3);
});

Deno.test("findText() ignores punctuation at word edges on both sides", () => {
  const words = [word("(Proceed)", 10), word("Cancel,", 200)];
  assert.equal(findText(words, "Proceed")[0].text, "(Proceed)");
  assert.equal(findText(words, "cancel!").length, 1);
});

Deno.test("findText() matches a word OCR split in two and two words OCR joined", () => {
  const split = [word("Quar", 0), word("terly", 45), word("report", 110)];
  assert.equal(findText(split, "Quarterly report")[0].text, "Quar terly report");
  const joined = [word("Quarterlyreport", 0), word("ready", 160)];
  assert.deepEqual(findText(joined, "Quarterly report ready")[0].box, {
    x: 0,
    y: 100,
    width: 210,
    height: 20,
  });
});

Deno.test("findText() needs a match to start and end at word edges", () => {
  const words = line("the quarterly report");
  assert.equal(findText(words, "port").length, 0);
  assert.equal(findText(words, "quarter").length, 0);
  assert.equal(findText(words, "he quarterly").length, 0);
  assert.equal(findText(words, "the quarterly").length, 1);
});

Deno.test("findText() skips punctuation-only words inside a phrase and leaves them out of the box", () => {
  const words = [word("|", 0), word("Quarterly", 20), word("|", 115), word("report", 130)];
  const [match] = findText(words, "Quarterly report");
  assert.equal(match.text, "Quarterly report");
  assert.deepEqual(match.box, { x: 20, y: 100, width: 170, height: 20 });
});

Deno.test("findText() does not join words on different lines", () => {
  const words = [...line("Quarterly", 0, 100), ...line("report", 0, 130)];
  assert.equal(findText(words, "Quarterly report").length, 0);
});

Deno.test("findText() does not join words far apart on one line", () => {
  const words = [word("Quarterly", 0), word("report", 90 + 31)];
  assert.equal(findText(words, "Quarterly report").length, 0, "gap 31 px > 1.5 × 20 px");
  assert.equal(findText(words, "Quarterly report", { maxGapRatio: 2 }).length, 1);
});

Deno.test("findText() puts words of one line in reading order even when their tops differ a little", () => {
  const words = [word("report", 100, 104), word("Quarterly", 0, 98)];
  assert.equal(findText(words, "Quarterly report").length, 1);
});

Deno.test("findText() returns every match in reading order", () => {
  const words = [...line("Save Close", 0, 300), ...line("Save", 0, 100), ...line("Save", 400, 100)];
  const found = findText(words, "save").map((match) => [match.box.x, match.box.y]);
  assert.deepEqual(found, [[0, 100], [400, 100], [0, 300]]);
});

Deno.test("findText() reports the lowest word confidence of a match", () => {
  const words = [word("Quarterly", 0, 100, 95), word("report", 100, 100, 61)];
  assert.equal(findText(words, "Quarterly report")[0].confidence, 61);
});

Deno.test("findText() of an empty or punctuation-only phrase finds nothing", () => {
  const words = [word("-", 0), word("Ok", 20)];
  assert.deepEqual(findText(words, ""), []);
  assert.deepEqual(findText(words, " - "), []);
});

Deno.test("screenContains() accepts a ScreenText and says whether the phrase is there", () => {
  const screen: ScreenText = { words: line("Backup finished"), width: 1280, height: 800, engine: "t", ms: 1 };
  assert.equal(screenContains(screen, "backup finished"), true);
  assert.equal(screenContains(screen, "backup failed"), false);
});

Deno.test("textRuns() splits a line at wide gaps and orders runs top to bottom, left to right", () => {
  const words = [
    word("Right", 600, 100),
    word("Left", 0, 102),
    word("Below", 0, 200),
    word("Lefter", 50, 99),
  ];
  assert.deepEqual(textRuns(words).map((run) => run.map((w) => w.text).join(" ")), [
    "Left Lefter",
    "Right",
    "Below",
  ]);
});
