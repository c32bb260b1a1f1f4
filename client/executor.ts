/**
 * Executes actions on the real screen through the Node helper, one at a time, in order. The helper checks
 * coordinates against the live screen (`out-of-bounds`); launching apps is the Deno side's (`apps.ts`).
 */
import type { DeviceAction } from "../shared/actions.ts";
import { appLauncher, type Launcher } from "./apps.ts";
import { decodeBase64 } from "../shared/base64.ts";
import type { HelperProcess } from "./helper_process.ts";
import { FailureError } from "../shared/protocol/mod.ts";
import type { ActionExecutor, ExecutionOutcome } from "./runtime.ts";

interface Capture {
  format: "jpeg" | "png";
  width: number;
  height: number;
  originalWidth: number;
  originalHeight: number;
  capturedAtMs: number;
  image: string;
}

/** Runs actions through the helper; `cancel()` fails what is queued, the running action completes. */
export class HelperExecutor implements ActionExecutor {
  #chain: Promise<unknown> = Promise.resolve();
  #generation = 0;

  constructor(
    readonly helper: HelperProcess,
    /** Starts apps by name (default: this machine's apps, started in the current directory). */
    readonly launch: Launcher = appLauncher(
      { os: Deno.build.os, env: (name) => Deno.env.get(name) },
      Deno.cwd(),
    ),
  ) {}

  execute(action: DeviceAction): Promise<ExecutionOutcome> {
    const generation = this.#generation;
    const result = this.#chain.then(() =>
      generation === this.#generation ? this.#run(action) : {
        ok: false as const,
        error: { code: "cancelled" as const, message: "Stopped: the task was cancelled", retryable: false },
      }
    );
    this.#chain = result.catch(() => {});
    return result;
  }

  cancel(): void {
    this.#generation++;
  }

  async #run(action: DeviceAction): Promise<ExecutionOutcome> {
    try {
      if (action.type === "frame") {
        const { image, ...meta } = await this.helper.request<Capture>("capture", {
          format: action.format,
          scale: action.scale,
          quality: action.quality,
        });
        return { ok: true, frame: { meta, image: decodeBase64(image) } };
      }
      if (action.type === "launch") {
        const started = await this.launch(action.app);
        if (started === null) {
          const message = `Cannot execute action: unknown application: ${action.app}`;
          return { ok: false, error: { code: "unknown-app", message, retryable: false } };
        }
        return { ok: true, output: started };
      }
      const { type, ...args } = action;
      const output = await this.helper.request(type, args);
      return { ok: true, output };
    } catch (error) {
      if (error instanceof FailureError) return { ok: false, error: error.failure };
      return { ok: false, error: { code: "action-failed", message: String(error), retryable: true } };
    }
  }
}
