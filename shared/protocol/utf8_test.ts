import assert from "node:assert/strict";
import { readUtf8, utf8Length, writeUtf8 } from "./utf8.ts";

const SAMPLES = [
  "",
  "a",
  "a3",
  "d1.download.1",
  "x".repeat(23),
  "x".repeat(24),
  "x".repeat(300),
  "héllo ✓",
  "😀",
  "ascii then é",
  "\ufeffbom",
  "é".repeat(200),
  "mixed ✓ ".repeat(50),
];

Deno.test("writeUtf8() writes what TextEncoder writes, ASCII and not, short and long", () => {
  const encoder = new TextEncoder();
  for (const text of SAMPLES) {
    const target = new Uint8Array(5 + text.length * 3).fill(0xee);
    const written = writeUtf8(target, 5, text);
    assert.deepEqual(target.subarray(5, 5 + written), encoder.encode(text), JSON.stringify(text));
    assert.equal(target[4], 0xee, "nothing written before the offset");
    assert.equal(utf8Length(text), written, `utf8Length of ${JSON.stringify(text)}`);
  }
});

Deno.test("readUtf8() reads back what writeUtf8() wrote, a leading U+FEFF included", () => {
  for (const text of SAMPLES) {
    const target = new Uint8Array(3 + text.length * 3);
    const written = writeUtf8(target, 3, text);
    assert.equal(readUtf8(target, 3, 3 + written), text, JSON.stringify(text));
  }
});

Deno.test("readUtf8() refuses bytes that are not UTF-8, short or long, and keeps a real U+FFFD", () => {
  const bad = [[0xff], [0x61, 0xc3], [0xed, 0xa0, 0x80], [0xc3, 0x28]];
  for (const bytes of bad) {
    assert.equal(readUtf8(Uint8Array.from(bytes), 0, bytes.length), null, `${bytes}`);
    const padded = Uint8Array.from([...new Array(40).fill(0x61), ...bytes]);
    assert.equal(readUtf8(padded, 0, padded.length), null, `long ${bytes}`);
  }
  const replacement = new TextEncoder().encode("a\ufffdb".repeat(10));
  assert.equal(readUtf8(replacement, 0, replacement.length), "a\ufffdb".repeat(10));
});
