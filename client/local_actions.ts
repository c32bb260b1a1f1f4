/**
 * The actions the Deno client carries out itself, around the body's executor (the Node helper, or the
 * headless one): `run` a program in the files directory (only with `--allow-run`), and `fileInfo` about a
 * file there. Everything else goes to the body. A running program is killed at its timeout or on cancel.
 */
import type { DeviceAction } from "../shared/actions.ts";
import { concatBytes } from "../shared/bytes.ts";
import { systemClock, type Timers } from "../shared/clock.ts";
import { failure } from "../shared/protocol/mod.ts";
import { resolveInFilesDir } from "./files.ts";
import type { ActionExecutor, ExecutionOutcome } from "./runtime.ts";

/** Bytes of stdout and of stderr a `run` result carries at most. */
export const RUN_OUTPUT_CAP_BYTES = 64 * 1024;

/** What the local actions need. */
export interface LocalActionsOptions {
  /** The body's executor: input, capture, windows. */
  body: ActionExecutor;
  filesDir: string;
  /** Whether this device runs programs (`--allow-run`). */
  allowRun: boolean;
  /** Environment the programs see (default: the client's). */
  env?: Record<string, string>;
  clock?: Timers;
}

/** The device's executor: local actions first, the body's for the rest. */
export class LocalActions implements ActionExecutor {
  readonly #running = new Set<Deno.ChildProcess>();

  constructor(readonly options: LocalActionsOptions) {}

  execute(action: DeviceAction): Promise<ExecutionOutcome> {
    if (action.type === "run") return this.#run(action);
    if (action.type === "fileInfo") return this.#fileInfo(action.path);
    return this.options.body.execute(action);
  }

  /** Cancels the body's queued actions and kills every program still running. */
  cancel(): void {
    this.options.body.cancel();
    for (const child of this.#running) {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    }
  }

  async #run(action: Extract<DeviceAction, { type: "run" }>): Promise<ExecutionOutcome> {
    if (!this.options.allowRun) {
      return { ok: false, error: failure("run-not-allowed", `refused to run ${action.command}`) };
    }
    await Deno.mkdir(this.options.filesDir, { recursive: true });
    const startedAt = performance.now();
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(action.command, {
        args: action.args,
        cwd: this.options.filesDir,
        env: this.options.env,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (error) {
      return {
        ok: false,
        error: failure("run-failed", `cannot start ${action.command}: ${(error as Error).message}`),
      };
    }
    this.#running.add(child);
    let timedOut = false;
    const clock = this.options.clock ?? systemClock;
    const timer = clock.setTimeout(() => {
      timedOut = true;
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    }, action.timeoutMs);
    try {
      const [stdout, stderr, status] = await Promise.all([
        capped(child.stdout),
        capped(child.stderr),
        child.status,
      ]);
      const output = {
        exitCode: status.code,
        stdout: stdout.text,
        stderr: stderr.text,
        stdoutTruncated: stdout.truncated,
        stderrTruncated: stderr.truncated,
        durationMs: Math.round(performance.now() - startedAt),
      };
      if (timedOut) {
        return {
          ok: false,
          error: failure("timeout", `${action.command} ran past ${action.timeoutMs} ms: ${json(output)}`),
        };
      }
      if (status.code !== 0) {
        return {
          ok: false,
          error: failure("run-failed", `${action.command} exited with ${status.code}: ${json(output)}`),
        };
      }
      return { ok: true, output };
    } finally {
      clock.clearTimeout(timer);
      this.#running.delete(child);
    }
  }

  async #fileInfo(path: string): Promise<ExecutionOutcome> {
    const resolved = await resolveInFilesDir(this.options.filesDir, path);
    if (!resolved.ok) return { ok: false, error: { ...resolved.error, retryable: false } };
    try {
      const info = await Deno.stat(resolved.value);
      return {
        ok: true,
        output: { path, exists: info.isFile, size: info.size, mtimeMs: info.mtime?.getTime() ?? null },
      };
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return { ok: true, output: { path, exists: false } };
      return {
        ok: false,
        error: failure("action-failed", `cannot stat ${path}: ${(error as Error).message}`),
      };
    }
  }
}

/** Reads a stream to its end, keeping at most the cap (as UTF-8 text). */
async function capped(stream: ReadableStream<Uint8Array>): Promise<{ text: string; truncated: boolean }> {
  const kept: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for await (const chunk of stream) {
    if (size >= RUN_OUTPUT_CAP_BYTES) {
      truncated = true;
      continue;
    }
    const room = RUN_OUTPUT_CAP_BYTES - size;
    if (chunk.byteLength > room) truncated = true;
    const part = chunk.subarray(0, room);
    kept.push(part);
    size += part.byteLength;
  }
  return { text: new TextDecoder().decode(concatBytes(kept, size)), truncated };
}

function json(value: unknown): string {
  const text = JSON.stringify(value);
  return text.length > 1500 ? `${text.slice(0, 1500)}…` : text;
}
