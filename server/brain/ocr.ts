/**
 * Screen text with Debian's `tesseract` CLI (5.x): the frame is made grayscale and upscaled twice with
 * sharp (small UI fonts are then big enough), piped in as PNG, and read as TSV; boxes are mapped back to
 * device pixels (the frame may itself be a scaled capture). Runs at most `concurrency` at a time, each with a
 * timeout, killed when its step is cancelled. A missing binary is `ocr-unavailable`, never a crash.
 */
import sharp from "sharp";
import { failure, FailureError } from "../../shared/protocol/mod.ts";
import type { Frame, OcrEngine, OcrWord, ScreenText } from "./types.ts";

/** Settings of the engine. */
export interface TesseractOptions {
  /** The program (default `tesseract`). */
  binary?: string;
  /** Upscale factor before reading (default 2). */
  scale?: number;
  /** Page segmentation mode (default 3, automatic; 11, sparse text, finds fewer words here). */
  psm?: number;
  language?: string;
  /** Words below this confidence (0..100) are dropped (default 30). */
  minConfidence?: number;
  /** One read's limit (default 20 s). */
  timeoutMs?: number;
  /** Reads at once (default 2). */
  concurrency?: number;
}

/** The version line of the binary, or null when it cannot run. */
export async function tesseractVersion(binary = "tesseract"): Promise<string | null> {
  try {
    const output = await new Deno.Command(binary, { args: ["--version"], stdout: "piped", stderr: "piped" })
      .output();
    if (!output.success) return null;
    const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
    return text.split("\n")[0].trim() || "tesseract";
  } catch {
    return null;
  }
}

/** Reads TSV (`level page block par line word left top width height conf text`) into words. */
export function parseTsv(tsv: string, factor: number, minConfidence: number): OcrWord[] {
  const words: OcrWord[] = [];
  for (const line of tsv.split("\n").slice(1)) {
    const cells = line.split("\t");
    if (cells.length < 12 || cells[0] !== "5") continue;
    const text = cells.slice(11).join("\t").trim();
    const confidence = Number(cells[10]);
    if (text === "" || !(confidence >= minConfidence)) continue;
    const [left, top, width, height] = cells.slice(6, 10).map(Number);
    words.push({
      text,
      x: Math.round(left * factor),
      y: Math.round(top * factor),
      width: Math.round(width * factor),
      height: Math.round(height * factor),
      confidence,
    });
  }
  return words;
}

/** The tesseract engine. */
export class TesseractOcr implements OcrEngine {
  readonly name = "tesseract";
  readonly #options: TesseractOptions;
  #active = 0;
  readonly #queue: Array<() => void> = [];

  constructor(options: TesseractOptions = {}) {
    this.#options = options;
  }

  async read(frame: Frame, options: { signal?: AbortSignal } = {}): Promise<ScreenText> {
    const started = performance.now();
    await this.#slot();
    try {
      const scale = this.#options.scale ?? 2;
      const width = Math.round(frame.originalWidth * scale);
      const png = await sharp(frame.image).grayscale().resize({ width, kernel: "lanczos3" }).png({
        compressionLevel: 1,
      })
        .toBuffer();
      const tsv = await this.#run(new Uint8Array(png.buffer, png.byteOffset, png.byteLength), options.signal);
      return {
        words: parseTsv(tsv, frame.originalWidth / width, this.#options.minConfidence ?? 30),
        width: frame.originalWidth,
        height: frame.originalHeight,
        engine: this.name,
        ms: Math.round(performance.now() - started),
      };
    } finally {
      this.#active--;
      this.#queue.shift()?.();
    }
  }

  async #run(png: Uint8Array, signal: AbortSignal | undefined): Promise<string> {
    const binary = this.#options.binary ?? "tesseract";
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(binary, {
        args: [
          "stdin",
          "stdout",
          "--psm",
          String(this.#options.psm ?? 3),
          "-l",
          this.#options.language ?? "eng",
          "tsv",
        ],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (error) {
      throw new FailureError(
        failure("ocr-unavailable", `cannot start ${binary}: ${(error as Error).message}`),
      );
    }
    const kill = () => {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    };
    const timer = setTimeout(kill, this.#options.timeoutMs ?? 20_000);
    signal?.addEventListener("abort", kill, { once: true });
    try {
      const writer = child.stdin.getWriter();
      await writer.write(png).catch(() => {});
      await writer.close().catch(() => {});
      const output = await child.output();
      if (signal?.aborted) throw new FailureError(failure("cancelled", String(signal.reason ?? "cancelled")));
      if (!output.success) {
        const detail = new TextDecoder().decode(output.stderr).trim().split("\n").at(-1) ?? "";
        throw new FailureError(failure("internal", `${binary} failed (${output.code}): ${detail}`, true));
      }
      return new TextDecoder().decode(output.stdout);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", kill);
    }
  }

  async #slot(): Promise<void> {
    if (this.#active < (this.#options.concurrency ?? 2)) {
      this.#active++;
      return;
    }
    await new Promise<void>((resolve) =>
      this.#queue.push(() => {
        this.#active++;
        resolve();
      })
    );
  }
}
