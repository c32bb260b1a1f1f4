/**
 * A frame made ready for OCR (with sharp, libvips): decoded, grey, resized to `upscale` × the DEVICE's
 * screen size (whatever the frame's own size) and mildly sharpened, as a binary PGM that Tesseract reads on
 * stdin. Measured on Xvnc frames
 * (README "Screen text (OCR)"): 2× with Lanczos and sharp's default mild sharpen reads small
 * UI fonts that the raw frame misses; a fixed threshold helped at full scale but lost text in half-size
 * frames, so none is applied.
 */
import { failure, FailureError } from "../../shared/protocol/mod.ts";
import { loadSharp } from "./sharp.ts";
import type { Frame } from "./types.ts";

/** An image ready for the OCR engine. */
export interface PreparedImage {
  /** Binary PGM (P5), 8-bit grey. */
  pgm: Uint8Array;
  width: number;
  height: number;
  /** Device pixels per image pixel, across and down. */
  scaleX: number;
  scaleY: number;
}

/** Largest side of a prepared image: above it the upscale is reduced (a 4K screen is not read at 2×). */
export const MAX_PREPARED_SIDE = 4096;

/** Prepares `frame` for OCR at `upscale` × the device's pixels. A frame that does not decode is a failure. */
export async function prepareFrame(frame: Frame, upscale: number): Promise<PreparedImage> {
  const factor = Math.min(upscale, MAX_PREPARED_SIDE / Math.max(frame.originalWidth, frame.originalHeight));
  const width = Math.max(1, Math.round(frame.originalWidth * factor));
  const height = Math.max(1, Math.round(frame.originalHeight * factor));
  const sharp = await loadSharp();
  let pixels: Uint8Array;
  try {
    pixels = await sharp(frame.image)
      .grayscale()
      .resize(width, height, { kernel: "lanczos3", fit: "fill" })
      .sharpen()
      .raw()
      .toBuffer();
  } catch (error) {
    throw new FailureError(
      failure("schema-violation", `the frame is not a readable ${frame.format}: ${(error as Error).message}`),
    );
  }
  if (pixels.byteLength !== width * height) {
    // One grey byte per pixel is what sharp gives after grayscale(); anything else would misread as text.
    throw new FailureError(
      failure("internal", `the frame decoded to ${pixels.byteLength} bytes, not ${width}×${height}`),
    );
  }
  const header = new TextEncoder().encode(`P5\n${width} ${height}\n255\n`);
  const pgm = new Uint8Array(header.byteLength + pixels.byteLength);
  pgm.set(header);
  pgm.set(pixels, header.byteLength);
  return {
    pgm,
    width,
    height,
    scaleX: frame.originalWidth / width,
    scaleY: frame.originalHeight / height,
  };
}
