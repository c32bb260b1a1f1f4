import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import { decodePng } from "./png.ts";

/** A PNG whose row y uses filter y % 5, built by hand so every filter is exercised. */
function encode(width: number, height: number, channels: 3 | 4, colour: (x: number, y: number) => number[]) {
  const stride = width * channels;
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) pixels.set(colour(x, y), y * stride + x * channels);
  }
  const raw = new Uint8Array(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    const filter = y % 5;
    raw[y * (stride + 1)] = filter;
    for (let i = 0; i < stride; i++) {
      const at = y * stride + i;
      const left = i >= channels ? pixels[at - channels] : 0;
      const up = y > 0 ? pixels[at - stride] : 0;
      const upLeft = y > 0 && i >= channels ? pixels[at - stride - channels] : 0;
      const p = left + up - upLeft;
      const paeth = Math.abs(p - left) <= Math.abs(p - up) && Math.abs(p - left) <= Math.abs(p - upLeft)
        ? left
        : Math.abs(p - up) <= Math.abs(p - upLeft)
        ? up
        : upLeft;
      const predictor = [0, left, up, (left + up) >> 1, paeth][filter];
      raw[y * (stride + 1) + 1 + i] = (pixels[at] - predictor) & 0xff;
    }
  }
  const chunk = (type: string, data: Uint8Array) => {
    const out = new Uint8Array(12 + data.byteLength);
    new DataView(out.buffer).setUint32(0, data.byteLength);
    out.set(new TextEncoder().encode(type), 4);
    out.set(data, 8);
    return out; // The CRC stays zero: the decoder does not check it.
  };
  const header = new Uint8Array(13);
  new DataView(header.buffer).setUint32(0, width);
  new DataView(header.buffer).setUint32(4, height);
  header.set([8, channels === 3 ? 2 : 6, 0, 0, 0], 8);
  const compressed = new Uint8Array(deflateSync(raw));
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", compressed.subarray(0, 10)),
    chunk("IDAT", compressed.subarray(10)),
    chunk("IEND", new Uint8Array()),
  ];
  return new Uint8Array(parts.flatMap((part) => [...part]));
}

Deno.test("decodePng() undoes every row filter across split IDAT chunks", () => {
  const colour = (x: number, y: number) => [(x * 37 + y) & 0xff, (y * 53) & 0xff, (x * y) & 0xff];
  const png = decodePng(encode(13, 11, 3, colour));
  assert.deepEqual([png.width, png.height], [13, 11]);
  for (let y = 0; y < 11; y++) {
    for (let x = 0; x < 13; x++) assert.deepEqual(png.pixel(x, y), colour(x, y), `pixel ${x},${y}`);
  }
  const rgba = decodePng(encode(4, 6, 4, (x, y) => [x * 60, y * 40, 200, 255 - x]));
  assert.deepEqual(rgba.pixel(3, 5), [180, 200, 200, 252]);
});

Deno.test("decodePng() rejects what is not a PNG, naming the problem", () => {
  assert.throws(() => decodePng(new TextEncoder().encode("GIF89a......")), /bad signature/);
});
