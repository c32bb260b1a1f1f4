/**
 * Reads pixels out of a PNG in the test itself (node:zlib inflates), so capture tests need no ImageMagick.
 * Handles what captures are: 8-bit greyscale, RGB or RGBA, not interlaced.
 */
import { inflateSync } from "node:zlib";

/** A decoded PNG: its size and the colour at a point. */
export interface DecodedPng {
  width: number;
  height: number;
  /** Red, green, blue (and alpha if the image has it) at x,y. */
  pixel(x: number, y: number): number[];
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 6: 4 };

/** Decodes a PNG; throws naming what it cannot read. */
export function decodePng(bytes: Uint8Array): DecodedPng {
  if (!SIGNATURE.every((byte, i) => bytes[i] === byte)) throw new Error("Cannot decode PNG: bad signature");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let width = 0, height = 0, channels = 0;
  const idat: Uint8Array[] = [];
  for (let at = 8; at + 8 <= bytes.byteLength;) {
    const length = view.getUint32(at);
    const type = new TextDecoder().decode(bytes.subarray(at + 4, at + 8));
    const data = bytes.subarray(at + 8, at + 8 + length);
    if (type === "IHDR") {
      width = view.getUint32(at + 8);
      height = view.getUint32(at + 12);
      const [depth, colourType, , , interlace] = data.subarray(8, 13);
      channels = CHANNELS[colourType] ?? 0;
      if (depth !== 8 || channels === 0 || interlace !== 0) {
        throw new Error(
          `Cannot decode PNG: bit depth ${depth}, colour type ${colourType}, interlace ${interlace} unsupported`,
        );
      }
    } else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") break;
    at += 12 + length;
  }
  if (width === 0) throw new Error("Cannot decode PNG: no IHDR chunk");
  const raw = new Uint8Array(inflateSync(concat(idat)));
  const stride = width * channels;
  if (raw.byteLength !== height * (stride + 1)) {
    throw new Error(`Cannot decode PNG: ${raw.byteLength} bytes of image data for ${width}x${height}`);
  }
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) unfilter(raw, pixels, y, stride, channels);
  return {
    width,
    height,
    pixel(x, y) {
      const at = y * stride + x * channels;
      const value = [...pixels.subarray(at, at + channels)];
      return channels === 1 ? [value[0], value[0], value[0]] : value;
    },
  };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

/** Undoes one row's filter (PNG spec §9.2) from `raw` into `out`. */
function unfilter(raw: Uint8Array, out: Uint8Array, y: number, stride: number, bpp: number): void {
  const filter = raw[y * (stride + 1)];
  const from = y * (stride + 1) + 1;
  const row = y * stride;
  for (let i = 0; i < stride; i++) {
    const left = i >= bpp ? out[row + i - bpp] : 0;
    const up = y > 0 ? out[row - stride + i] : 0;
    const upLeft = y > 0 && i >= bpp ? out[row - stride + i - bpp] : 0;
    let predictor: number;
    if (filter === 0) predictor = 0;
    else if (filter === 1) predictor = left;
    else if (filter === 2) predictor = up;
    else if (filter === 3) predictor = (left + up) >> 1;
    else if (filter === 4) predictor = paeth(left, up, upLeft);
    else throw new Error(`Cannot decode PNG: unknown filter ${filter} on row ${y}`);
    out[row + i] = (raw[from + i] + predictor) & 0xff;
  }
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}
