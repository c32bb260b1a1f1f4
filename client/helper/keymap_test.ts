import assert from "node:assert/strict";
import { keysymOf, parseKeymap, segment } from "./keymap.js";

Deno.test("keysymOf() gives Latin-1 keysyms as code points, others as 0x1000000 + code point", () => {
  assert.equal(keysymOf("A"), 0x41);
  assert.equal(keysymOf("é"), 0xe9);
  assert.equal(keysymOf("✓"), 0x1002713);
  assert.equal(keysymOf("😀"), 0x101f600);
  assert.equal(keysymOf("\n"), 0xff0d);
  assert.equal(keysymOf("\t"), 0xff09);
  assert.equal(keysymOf("\u0007"), null);
  assert.equal(keysymOf("\u0085"), null);
});

Deno.test("parseKeymap() reads every keycode row of `xmodmap -pk`, spare rows empty", () => {
  const text = [
    "There are 7 KeySyms per KeyCode; KeyCodes range from 8 to 255.",
    "",
    "    KeyCode\tKeysym (Keysym)\t...",
    "    Value  \tValue   (Name) \t...",
    "",
    "      8    \t",
    "     10    \t0x0031 (1)\t0x0021 (exclam)\t0x0031 (1)\t0x0021 (exclam)\t",
    "    248    \t0x1002713 (U2713)\t0x1002713 (U2713)\t",
  ].join("\n");
  assert.deepEqual([...parseKeymap(text)], [[8, []], [10, [0x31, 0x21, 0x31, 0x21]], [248, [
    0x1002713,
    0x1002713,
  ]]]);
});

Deno.test("segment() cuts a text into runs needing at most `room` pooled keysyms, in order", () => {
  const needsPool = (keysym: number) => keysym > 0xff;
  const [a, b, c, d] = [0x1000391, 0x1000392, 0x1000393, 0x1000394];
  const runs = segment([a, 0x61, b, a, c, b, d, 0x62], needsPool, 2);
  assert.deepEqual(runs.map((run: { keysyms: number[] }) => run.keysyms), [[a, 0x61, b, a], [c, b], [
    d,
    0x62,
  ]]);
  assert.deepEqual(runs.map((run: { missing: Set<number> }) => [...run.missing]), [[a, b], [c, b], [d]]);
  assert.deepEqual(segment([0x61, 0x62], needsPool, 2).length, 1, "a text the map covers is one run");
});
