/**
 * Screen text through the `tesseract` CLI (Debian's tesseract-ocr 5): each frame is prepared (grey, 2×
 * the device's size, see ocr_preprocess.ts), fed on stdin as PGM, read back as TSV, and its word boxes
 * mapped to device pixels. At most `concurrency` runs at once (OCR is CPU-bound; the server has 2 cores),
 * each killed on abort or after `timeoutMs`. Whether Tesseract can run is found out once; when it cannot,
 * every read fails with `ocr-unavailable` saying why, and nothing else in the server depends on it.
 */
import { systemClock, type Timers } from "../../shared/clock.ts";
import { type Failure, failure, FailureError } from "../../shared/protocol/mod.ts";
import { prepareFrame } from "./ocr_preprocess.ts";
import { loadSharp } from "./sharp.ts";
import { runProcess } from "./run_process.ts";
import { cancelled, Slots } from "./slots.ts";
import { parseTesseractTsv } from "./tesseract_tsv.ts";
import type { Frame, OcrEngine, ScreenText } from "./types.ts";

/** Whether the engine can run: its version and languages, or the `ocr-unavailable` failure saying why. */
export type OcrAvailability =
  | { ok: true; version: string; languages: string[] }
  | { ok: false; failure: Failure };

/** An OCR engine that can say up front whether it runs here. */
export interface CheckedOcrEngine extends OcrEngine {
  /** Found out once (the first call) and remembered. */
  available(): Promise<OcrAvailability>;
}

/** Settings of the Tesseract engine; every one has a measured default. */
export interface TesseractOptions {
  /** The program (default `tesseract`, looked up on PATH). */
  binary?: string;
  /** Tesseract language(s), `+`-joined (default `eng`). */
  language?: string;
  /** Page segmentation mode (default 3, automatic: read more words on Xvnc frames than 11, sparse text). */
  psm?: number;
  /** Resolution Tesseract is told (default 96: frames carry none, and its own estimate read fewer words). */
  dpi?: number;
  /** Size of the image read, in multiples of the device's screen size (default 2). */
  upscale?: number;
  /** Words below this confidence (0..100) are dropped (default 10). */
  minConfidence?: number;
  /** Runs at once (default 2); more wait in line. */
  concurrency?: number;
  /** Longest one run may take before it is killed (default 20 s). */
  timeoutMs?: number;
  timers?: Timers;
}

const PROBE_TIMEOUT_MS = 10_000;
const INSTALL_HINT = "install tesseract-ocr and tesseract-ocr-eng (Debian)";

/** Reads screen text with the `tesseract` CLI. */
export class TesseractOcr implements CheckedOcrEngine {
  readonly name = "tesseract";
  readonly #binary: string;
  readonly #language: string;
  readonly #args: string[];
  readonly #upscale: number;
  readonly #minConfidence: number;
  readonly #timeoutMs: number;
  readonly #timers: Timers;
  readonly #slots: Slots;
  #availability: Promise<OcrAvailability> | null = null;

  constructor(options: TesseractOptions = {}) {
    this.#binary = options.binary ?? "tesseract";
    this.#language = options.language ?? "eng";
    const psm = String(options.psm ?? 3);
    const dpi = String(options.dpi ?? 96);
    this.#args = ["stdin", "stdout", "-l", this.#language, "--psm", psm, "--dpi", dpi, "tsv"];
    this.#upscale = options.upscale ?? 2;
    this.#minConfidence = options.minConfidence ?? 10;
    this.#timeoutMs = options.timeoutMs ?? 20_000;
    this.#timers = options.timers ?? systemClock;
    this.#slots = new Slots(options.concurrency ?? 2);
  }

  /** Reads running now. */
  get running(): number {
    return this.#slots.running;
  }

  /** Reads waiting for a free run slot. */
  get waiting(): number {
    return this.#slots.waiting;
  }

  /** Runs `tesseract --version` and `--list-langs` once; later calls get the same answer. */
  available(): Promise<OcrAvailability> {
    return this.#availability ??= this.#probe();
  }

  /** Reads the words on `frame`; rejects with a `FailureError` (`ocr-unavailable`, `cancelled`, `timeout`, …). */
  async read(frame: Frame, options: { signal?: AbortSignal } = {}): Promise<ScreenText> {
    const { signal } = options;
    const availability = await this.available();
    if (!availability.ok) throw new FailureError(availability.failure);
    return await this.#slots.run(async () => {
      const startedMs = this.#timers.now();
      const image = await prepareFrame(frame, this.#upscale);
      if (signal?.aborted) throw cancelled(signal);
      const run = await runProcess(this.#binary, this.#args, {
        stdin: image.pgm,
        // One thread per run: runs already go side by side, and OpenMP threads on top only contend.
        env: { OMP_THREAD_LIMIT: "1" },
        signal,
        timeoutMs: this.#timeoutMs,
        timers: this.#timers,
      });
      if (run.code !== 0) {
        const detail = `Tesseract exited with code ${run.code}: ${run.stderr.trim().slice(-300)}`;
        throw new FailureError(failure("internal", detail));
      }
      const parsed = parseTesseractTsv(run.stdout, {
        scaleX: image.scaleX,
        scaleY: image.scaleY,
        screenWidth: frame.originalWidth,
        screenHeight: frame.originalHeight,
        minConfidence: this.#minConfidence,
      });
      if (!parsed.ok) {
        throw new FailureError(failure("internal", `Cannot parse Tesseract's TSV: ${parsed.error}`));
      }
      return {
        words: parsed.words,
        width: frame.originalWidth,
        height: frame.originalHeight,
        engine: `tesseract ${availability.version}`,
        ms: this.#timers.now() - startedMs,
      };
    }, signal);
  }

  async #probe(): Promise<OcrAvailability> {
    const run = (args: string[]) =>
      runProcess(this.#binary, args, { timeoutMs: PROBE_TIMEOUT_MS, timers: this.#timers });
    try {
      const about = await run(["--version"]);
      const version = /tesseract\s+v?(\d[\w.-]*)/i.exec(about.stdout + about.stderr)?.[1];
      if (about.code !== 0 || version === undefined) {
        return unavailable(`${this.#binary} --version did not name a Tesseract version (exit ${about.code})`);
      }
      const listed = await run(["--list-langs"]);
      // "List of available languages in "/usr/share/tesseract-ocr/5/tessdata/" (2):" then one per line.
      const languages = listed.stdout.split("\n").slice(1).map((line) => line.trim()).filter(Boolean);
      const missing = this.#language.split("+").filter((language) => !languages.includes(language));
      if (missing.length > 0) {
        return unavailable(
          `Tesseract ${version} has no language data for ${missing.join(", ")} (has: ${
            languages.join(", ") || "none"
          }); ${INSTALL_HINT}`,
        );
      }
      const sharp = await loadSharp().then(() => null, (error: Error) => error);
      if (sharp !== null) {
        const hint = /ffi/i.test(sharp.message)
          ? "start the server with --allow-ffi"
          : sharp.message.split("\n")[0];
        return unavailable(`cannot load sharp to prepare frames: ${hint}`);
      }
      return { ok: true, version, languages };
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        return unavailable(`${this.#binary} is not installed or not on PATH; ${INSTALL_HINT}`);
      }
      if (error instanceof Deno.errors.NotCapable) {
        return unavailable(`the server may not run ${this.#binary}: start it with --allow-run=tesseract`);
      }
      if (error instanceof Deno.errors.PermissionDenied) {
        return unavailable(`${this.#binary} is not executable by the server's user`);
      }
      return unavailable(error instanceof FailureError ? error.failure.message : String(error));
    }
  }
}

function unavailable(detail: string): OcrAvailability {
  return { ok: false, failure: failure("ocr-unavailable", detail) };
}
