/// <reference lib="dom" />
/**
 * The browser device's executor: it can only look. REQUEST_FRAME draws the current video frame of the
 * shared screen to a canvas (scaled) and encodes it as JPEG or PNG; every input action fails with
 * `no-input`, and `run` with `run-not-allowed`, as the capabilities say.
 */
import type { DeviceAction } from "../shared/actions.ts";
import { failure } from "../shared/protocol/mod.ts";
import type { ActionExecutor, ExecutionOutcome } from "../client/runtime.ts";

/** Captures frames from a playing `<video>` of the shared screen. */
export class CanvasCapture implements ActionExecutor {
  readonly #canvas: HTMLCanvasElement;

  constructor(readonly video: HTMLVideoElement, readonly now: () => number = () => Date.now()) {
    this.#canvas = document.createElement("canvas");
  }

  async execute(action: DeviceAction): Promise<ExecutionOutcome> {
    switch (action.type) {
      case "frame":
        return await this.#capture(action.format, action.scale, action.quality);
      case "windows":
        return { ok: true, output: { windows: [] } };
      case "run":
        return { ok: false, error: failure("run-not-allowed", "a browser device runs no programs") };
      default:
        return { ok: false, error: failure("no-input", `a browser device cannot ${action.type}`) };
    }
  }

  cancel(): void {}

  async #capture(format: "jpeg" | "png", scale: number, quality: number): Promise<ExecutionOutcome> {
    const video = this.video;
    const originalWidth = video.videoWidth;
    const originalHeight = video.videoHeight;
    if (originalWidth === 0 || originalHeight === 0) {
      return { ok: false, error: failure("action-failed", "the shared screen has no picture yet") };
    }
    const width = Math.max(1, Math.round(originalWidth * scale));
    const height = Math.max(1, Math.round(originalHeight * scale));
    const canvas = this.#canvas;
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext("2d");
    if (context === null) return { ok: false, error: failure("action-failed", "no 2D canvas context") };
    const capturedAtMs = this.now();
    context.drawImage(video, 0, 0, width, height);
    const blob = await new Promise<Blob | null>((resolve) =>
      canvas.toBlob(resolve, format === "png" ? "image/png" : "image/jpeg", quality / 100)
    );
    if (blob === null) return { ok: false, error: failure("action-failed", "the canvas gave no image") };
    const image = new Uint8Array(await blob.arrayBuffer());
    return {
      ok: true,
      frame: { meta: { format, width, height, originalWidth, originalHeight, capturedAtMs }, image },
    };
  }
}
