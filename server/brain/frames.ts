/**
 * Frames as images: how different two frames are (for `waitFor screenChange`), decoded with sharp. Both
 * are reduced to the same small grayscale thumbnail, so JPEG noise and scale do not count as a change.
 */
import { loadSharp } from "./sharp.ts";
import type { Frame } from "./types.ts";

const THUMB_WIDTH = 160;
const THUMB_HEIGHT = 100;

async function thumbnail(frame: Frame): Promise<Uint8Array> {
  const sharp = await loadSharp();
  const { data } = await sharp(frame.image)
    .resize(THUMB_WIDTH, THUMB_HEIGHT, { fit: "fill" })
    .grayscale()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * The share of thumbnail pixels (0..1) whose brightness differs by more than `tolerance` (0..255) between
 * the two frames: 0 for the same screen, near 1 for a new one.
 */
export async function frameDifference(a: Frame, b: Frame, tolerance = 24): Promise<number> {
  const [x, y] = await Promise.all([thumbnail(a), thumbnail(b)]);
  let changed = 0;
  for (let i = 0; i < x.length; i++) if (Math.abs(x[i] - y[i]) > tolerance) changed++;
  return changed / x.length;
}
