/**
 * Runs the Node input helper (`client/helper/`) and talks to it over stdio, one JSON line per request.
 * Installs its npm packages on first run, and restarts it if it dies: requests in flight then fail
 * with a retryable error, and the next request goes to the new process.
 */
import { sleep, systemClock, type Timers } from "../shared/clock.ts";
import { type ErrorCode, FailureError } from "../shared/protocol/mod.ts";

/** Settings of the helper process. */
export interface HelperOptions {
  /** The helper's folder (default: `client/helper` beside this file). */
  dir?: string;
  /** Extra environment, e.g. DISPLAY. */
  env?: Record<string, string>;
  /** Time a request may take (default 15 s). */
  timeoutMs?: number;
  /** Called when the helper had to be restarted. */
  onRestart?: (count: number) => void;
  clock?: Timers;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: FailureError): void;
  timer: unknown;
}

const DEFAULT_DIR = new URL("./helper/", import.meta.url).pathname;
const utf8 = new TextEncoder();

/** The helper process and its request channel. */
export class HelperProcess {
  readonly #options: HelperOptions;
  readonly #dir: string;
  #child: Deno.ChildProcess | null = null;
  #writer: WritableStreamDefaultWriter<Uint8Array> | null = null;
  #ready: Promise<void> | null = null;
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;
  /** How often the helper was restarted after dying. */
  restarts = 0;

  readonly #clock: Timers;

  constructor(options: HelperOptions = {}) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#dir = options.dir ?? DEFAULT_DIR;
  }

  /** The running helper's pid, if any. */
  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  /** Sends one request and resolves with its result, or rejects with a FailureError. */
  async request<T = unknown>(op: string, args: Record<string, unknown> = {}, timeoutMs?: number): Promise<T> {
    if (this.#closed) {
      throw new FailureError({
        code: "action-failed",
        message: "Cannot run action: the helper is closed",
        retryable: false,
      });
    }
    await this.#start();
    const id = this.#nextId++;
    const line = utf8.encode(JSON.stringify({ id, op, args }) + "\n");
    return await new Promise<T>((resolve, reject) => {
      const limit = timeoutMs ?? this.#options.timeoutMs ?? 15_000;
      const timer = this.#clock.setTimeout(() => {
        this.#pending.delete(id);
        reject(
          new FailureError({
            code: "timeout",
            message: `Cannot run ${op}: the helper did not answer within ${limit} ms`,
            retryable: true,
          }),
        );
      }, limit);
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      this.#writer!.write(line).catch(() => {});
    });
  }

  /** Stops the helper. */
  async close(): Promise<void> {
    this.#closed = true;
    const child = this.#child;
    this.#failAll("the helper is closing", false);
    if (child) {
      try {
        await this.#writer?.close();
      } catch {
        // Already closed.
      }
      const exited = await Promise.race([
        child.status.then(() => true),
        sleep(this.#clock, 1000).then(() => false),
      ]);
      if (!exited) {
        try {
          child.kill("SIGKILL");
        } catch {
          // Gone.
        }
        await child.status;
      }
    }
  }

  #start(): Promise<void> {
    this.#ready ??= this.#spawn().catch((error) => {
      this.#ready = null;
      throw error;
    });
    return this.#ready;
  }

  async #spawn(): Promise<void> {
    await this.#install();
    const child = new Deno.Command("node", {
      args: ["main.js"],
      cwd: this.#dir,
      env: this.#options.env,
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    this.#child = child;
    this.#writer = child.stdin.getWriter();
    const started = Promise.withResolvers<void>();
    this.#readLines(child, started);
    child.status.then(() => {
      if (this.#child !== child) return;
      this.#child = null;
      this.#writer = null;
      this.#ready = null;
      started.reject(
        new FailureError({
          code: "action-failed",
          message: "Cannot start the input helper: it exited",
          retryable: true,
        }),
      );
      if (this.#closed) return;
      this.restarts++;
      this.#failAll("the input helper died; it restarts on the next action", true);
      this.#options.onRestart?.(this.restarts);
    });
    await started.promise;
  }

  async #readLines(child: Deno.ChildProcess, started: PromiseWithResolvers<void>): Promise<void> {
    let buffered = "";
    try {
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        buffered += chunk;
        let newline;
        while ((newline = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          let message: {
            id: number;
            ok: boolean;
            result?: unknown;
            error?: { code: ErrorCode; message: string };
          };
          try {
            message = JSON.parse(line);
          } catch {
            continue;
          }
          // The helper's own refusals (a bad request, no display): retrying the same cannot help.
          const refusal = () =>
            new FailureError({
              code: message.error!.code,
              message: message.error!.message,
              retryable: false,
            });
          if (message.id === 0) {
            if (message.ok) started.resolve();
            else started.reject(refusal());
            continue;
          }
          const pending = this.#pending.get(message.id);
          if (pending === undefined) continue;
          this.#pending.delete(message.id);
          this.#clock.clearTimeout(pending.timer);
          if (message.ok) pending.resolve(message.result);
          else pending.reject(refusal());
        }
      }
    } catch {
      // The process ended; its status handler takes over.
    }
  }

  async #install(): Promise<void> {
    try {
      await Deno.stat(`${this.#dir}/node_modules/robotjs`);
      return;
    } catch {
      // First run: install below.
    }
    const output = await new Deno.Command("npm", {
      args: ["install", "--omit=dev", "--no-audit", "--no-fund"],
      cwd: this.#dir,
      stdout: "null",
      stderr: "piped",
    }).output();
    if (output.code !== 0) {
      const detail = new TextDecoder().decode(output.stderr).trim().split("\n").at(-1);
      throw new FailureError({
        code: "action-failed",
        message: `Cannot install the input helper: npm install failed: ${detail}`,
        retryable: false,
      });
    }
  }

  #failAll(reason: string, retryable: boolean): void {
    for (const [id, pending] of this.#pending) {
      this.#clock.clearTimeout(pending.timer);
      pending.reject(
        new FailureError({
          code: "action-failed",
          message: `Cannot finish action: ${reason}`,
          retryable: retryable,
        }),
      );
      this.#pending.delete(id);
    }
  }
}
