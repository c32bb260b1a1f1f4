/** Runs a program to completion with bytes on stdin, a time limit and cancellation (the process is killed). */
import type { Timers } from "../../shared/clock.ts";
import { failure, FailureError } from "../../shared/protocol/mod.ts";
import { cancelled } from "./slots.ts";

/** How a finished run ended. */
export interface ProcessRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Settings of one run. */
export interface RunOptions {
  /** Bytes written to the program's stdin, which is then closed; without them stdin is /dev/null. */
  stdin?: Uint8Array;
  env?: Record<string, string>;
  signal?: AbortSignal;
  timeoutMs: number;
  timers: Timers;
}

/**
 * Runs `command` and resolves with its exit code and output once it exits. When `signal` aborts or
 * `timeoutMs` passes first, the process is killed (SIGKILL), and the run rejects with a `cancelled` (or
 * the signal's own `FailureError`) or `timeout` failure once the process is gone. A program that cannot
 * be started rejects with Deno's own error (`Deno.errors.NotFound`, `NotCapable`, …) for the caller to name.
 */
export async function runProcess(command: string, args: string[], options: RunOptions): Promise<ProcessRun> {
  const { signal, timers, timeoutMs } = options;
  if (signal?.aborted) throw cancelled(signal);
  const child = new Deno.Command(command, {
    args,
    env: options.env,
    stdin: options.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stoppedBy: FailureError | null = null;
  const stop = (reason: FailureError) => {
    if (stoppedBy !== null) return;
    stoppedBy = reason;
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
  };
  const timer = timers.setTimeout(
    () => stop(new FailureError(failure("timeout", `${command} took longer than ${timeoutMs} ms`))),
    timeoutMs,
  );
  const onAbort = () => stop(cancelled(signal!));
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const [output] = await Promise.all([child.output(), options.stdin ? feed(child, options.stdin) : null]);
    if (stoppedBy !== null) throw stoppedBy;
    const decoder = new TextDecoder();
    return {
      code: output.code,
      stdout: decoder.decode(output.stdout),
      stderr: decoder.decode(output.stderr),
    };
  } finally {
    timers.clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}

async function feed(child: Deno.ChildProcess, bytes: Uint8Array): Promise<void> {
  const writer = child.stdin.getWriter();
  try {
    await writer.write(bytes);
    await writer.close();
  } catch {
    // The program exited (or was killed) before reading everything: its exit status tells the rest.
  }
}
