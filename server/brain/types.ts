/**
 * What the Brain sees and records: screen text read from a frame (words with boxes, in device pixels)
 * and the log of the steps a node took, each with the frame its decision used. The embedded default Brain
 * (deterministic steps: `waitFor`, `clickText`) and the LLM Brain share these.
 */
import type { Failure } from "../../shared/protocol/mod.ts";

/** One word the OCR engine read, with its box in device pixels (the frame's original size). */
export interface OcrWord {
  text: string;
  x: number;
  y: number;
  width: number;
  height: number;
  /** 0..100, as the engine reports it. */
  confidence: number;
}

/** The text on one frame. */
export interface ScreenText {
  words: OcrWord[];
  /** The device's screen size the boxes refer to. */
  width: number;
  height: number;
  /** Which engine read it, and how long it took (ms). */
  engine: string;
  ms: number;
  /** True when the text was remembered from an identical earlier frame (then `ms` is 0). */
  cached?: boolean;
}

/** A frame as the device captured it. */
export interface Frame {
  format: "jpeg" | "png";
  image: Uint8Array;
  /** The image's own size. */
  width: number;
  height: number;
  /** The device's screen size (the image may be scaled down). */
  originalWidth: number;
  originalHeight: number;
  capturedAtMs: number;
}

/** Reads the text on a frame. Throws a `FailureError` with `ocr-unavailable` when no engine can run. */
export interface OcrEngine {
  readonly name: string;
  read(frame: Frame, options?: { signal?: AbortSignal }): Promise<ScreenText>;
}

/** One step a node took, as the step log keeps it. */
export interface StepEntry {
  dagId: string;
  nodeId: string;
  attempt: number;
  /** Position of the step within its attempt, from 0. */
  index: number;
  type: string;
  /** The step's arguments (the step object without `type`). */
  args: Record<string, unknown>;
  startedAt: number;
  endedAt: number;
  ok: boolean;
  error: Failure | null;
  /** What the step produced for the operator (a `run` step's exit code and output, a match's box, …). */
  output?: unknown;
}
