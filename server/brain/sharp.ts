/**
 * sharp (libvips), loaded on first use rather than at import: its native library needs `--allow-ffi`, and a
 * server started without it still runs everything that does not decode images. A failed load is remembered.
 * Every image the Brain decodes or encodes goes through here.
 */
import type sharpModule from "sharp";

/** sharp's entry point. */
export type Sharp = typeof sharpModule;

let loading: Promise<Sharp> | null = null;

/** sharp, loading it on the first call. */
export function loadSharp(): Promise<Sharp> {
  return loading ??= import("sharp").then((module) => module.default);
}
