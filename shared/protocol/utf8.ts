/**
 * UTF-8 for the codec's small strings and JSON payloads. Most of what the protocol carries is ASCII, and
 * for a few dozen characters a loop over char codes beats the runtime's `TextEncoder`/`TextDecoder`
 * calls (`bench/codec_bench.ts` has the figures); anything else goes through them. Decoding is non-fatal
 * (the runtime's fast path) and checked again with a fatal decoder only when the text holds U+FFFD, the
 * character invalid bytes turn into, so invalid UTF-8 is still refused.
 */

const encoder = new TextEncoder();
// A leading U+FEFF is kept: it is part of a string field (JSON text drops it itself).
const looseDecoder = new TextDecoder("utf-8", { ignoreBOM: true });
const fatalDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Up to this many bytes, ASCII is decoded in JS (faster than a `TextDecoder` call). */
const SHORT_DECODE_BYTES = 32;
/** One reusable array of char codes per length, for `String.fromCharCode.apply` (fast on plain arrays). */
const CODES_BY_LENGTH: number[][] = Array.from(
  { length: SHORT_DECODE_BYTES + 1 },
  (_, n) => new Array(n).fill(0),
);
/** Below this many characters a JS loop encodes ASCII faster than `TextEncoder.encodeInto`. */
const SHORT_ENCODE_CHARS = 256;

/**
 * Writes `text` as UTF-8 at `offset`; returns the bytes written. `target` must have room for
 * `text.length * 3` bytes from `offset` (UTF-8 needs at most 3 bytes per UTF-16 unit).
 */
export function writeUtf8(target: Uint8Array, offset: number, text: string): number {
  const length = text.length;
  if (length < SHORT_ENCODE_CHARS) {
    let i = 0;
    for (; i < length; i++) {
      const code = text.charCodeAt(i);
      if (code > 0x7f) break;
      target[offset + i] = code;
    }
    if (i === length) return length;
  }
  return encoder.encodeInto(text, target.subarray(offset)).written;
}

/** The UTF-8 byte length of `text`. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** Decodes `bytes[start..end)` as UTF-8; null when the bytes are not valid UTF-8. */
export function readUtf8(bytes: Uint8Array, start: number, end: number): string | null {
  const length = end - start;
  if (length <= 3) {
    let text = "";
    let i = start;
    for (; i < end; i++) {
      const byte = bytes[i];
      if (byte > 0x7f) break;
      text += String.fromCharCode(byte);
    }
    if (i === end) return text;
  } else if (length <= SHORT_DECODE_BYTES) {
    const codes = CODES_BY_LENGTH[length];
    let any = 0;
    for (let i = 0; i < length; i++) {
      const byte = bytes[start + i];
      any |= byte;
      codes[i] = byte;
    }
    if (any <= 0x7f) return String.fromCharCode.apply(null, codes);
  }
  const view = start === 0 && end === bytes.byteLength ? bytes : bytes.subarray(start, end);
  const text = looseDecoder.decode(view);
  if (text.includes("\uFFFD")) {
    try {
      fatalDecoder.decode(view);
    } catch {
      return null;
    }
  }
  return text;
}
