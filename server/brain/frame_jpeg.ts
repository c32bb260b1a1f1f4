/**
 * Frames as the step log keeps them: JPEG, at most 1280 px wide. A small JPEG is kept byte for byte; a PNG
 * or a large JPEG is re-encoded with sharp, loaded on first use (it is a native addon: Deno needs
 * `--allow-ffi` for it, and a server without it keeps small JPEGs and says why it drops the rest).
 */
import { loadSharp } from "./sharp.ts";
import type { Frame } from "./types.ts";

/** Widest frame kept, in pixels. */
export const STORED_FRAME_MAX_WIDTH = 1280;
/** A JPEG up to this many bytes (and at most `STORED_FRAME_MAX_WIDTH` wide) is kept as it came. */
export const STORED_FRAME_KEEP_BYTES = 512 * 1024;
/** Quality of a re-encoded frame. */
export const STORED_FRAME_QUALITY = 80;

/** sharp, or the reason a frame cannot be re-encoded without it. */
async function sharpForFrames() {
  try {
    return await loadSharp();
  } catch (error) {
    const detail = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new Error(`Cannot re-encode frame: sharp did not load (${detail})`);
  }
}

/** Whether `frame` is kept as it came, without sharp. */
export function keptAsIs(frame: Frame): boolean {
  return frame.format === "jpeg" && frame.width <= STORED_FRAME_MAX_WIDTH &&
    frame.image.byteLength <= STORED_FRAME_KEEP_BYTES;
}

/** The JPEG bytes to store for `frame`; rejects when it must be re-encoded and sharp cannot load or decode it. */
export async function storedJpeg(frame: Frame): Promise<Uint8Array> {
  if (keptAsIs(frame)) return frame.image;
  const sharp = await sharpForFrames();
  const encoded = await sharp(frame.image)
    .resize({ width: STORED_FRAME_MAX_WIDTH, withoutEnlargement: true })
    .jpeg({ quality: STORED_FRAME_QUALITY })
    .toBuffer();
  return new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength);
}
