/**
 * Runs `server/main.ts` as a real process: on a given data dir until /healthz answers (restart, damage and
 * growth tests), or on a fresh one reading the first start's operator token (memory and limit checks).
 */
import { KEY_MIGRATIONS, KeyStore } from "../../server/auth/key_store.ts";
import { openDatabase } from "../../server/store/db.ts";
import { freePort } from "./ports.ts";

const serverMain = new URL("../../server/main.ts", import.meta.url).pathname;

/**
 * `deno run -A <main> --port P --host 127.0.0.1 --data-dir D …flags`: how every test and bench starts a server.
 * With `BENCH_SERVER_CPU_PROF=DIR` the server writes a V8 CPU profile there when it exits (for profiling a bench).
 */
export function serverArgs(
  port: number,
  dataDir: string,
  flags: readonly string[] = [],
  main: string = serverMain,
): string[] {
  const prof = Deno.env.get("BENCH_SERVER_CPU_PROF");
  return [
    "run",
    "-A",
    ...(prof ? ["--cpu-prof", `--cpu-prof-dir=${prof}`] : []),
    main,
    "--port",
    String(port),
    "--host",
    "127.0.0.1",
    "--data-dir",
    dataDir,
    ...flags,
  ];
}

/** A server process that came up, or one that exited first. */
export type ServerRun =
  | { up: true; child: Deno.ChildProcess; port: number; url: string; stderr(): string }
  | { up: false; code: number; stdout: string; stderr: string };

/**
 * Starts the server and waits until `/healthz` answers 200 (`up`), the process exits (`!up`, with its
 * output), or `timeoutMs` passes (an error). A process that came up is stopped with `stop()`.
 */
export async function runServer(
  dataDir: string,
  options: { port?: number; timeoutMs?: number; extraArgs?: string[] } = {},
): Promise<ServerRun> {
  const port = options.port ?? freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: serverArgs(port, dataDir, ["--resume-grace-ms", "0", ...(options.extraArgs ?? [])]),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const decoder = new TextDecoder();
  let stdout = "";
  let stderr = "";
  const drain = async (stream: ReadableStream<Uint8Array>, into: (text: string) => void) => {
    for await (const chunk of stream) into(decoder.decode(chunk, { stream: true }));
  };
  const drained = Promise.all([
    drain(child.stdout, (t) => stdout += t),
    drain(child.stderr, (t) => stderr += t),
  ]);
  let exited: Deno.CommandStatus | null = null;
  child.status.then((status) => exited = status);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    if (exited !== null) {
      await drained;
      return { up: false, code: (exited as Deno.CommandStatus).code, stdout, stderr };
    }
    const ok = await fetch(`${url}/healthz`).then(async (r) => {
      await r.body?.cancel();
      return r.status === 200;
    }, () => false);
    if (ok) return { up: true, child, port, url, stderr: () => stderr };
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  child.kill("SIGKILL");
  await child.status;
  await drained;
  throw new Error(`the server neither came up nor exited within the timeout:\n${stdout}\n${stderr}`);
}

/** Stops a running server with `signal` and waits for it to exit; returns its exit code. */
export async function stopServer(run: ServerRun, signal: Deno.Signal = "SIGTERM"): Promise<number> {
  if (!run.up) return run.code;
  try {
    run.child.kill(signal);
  } catch {
    // Already gone.
  }
  return (await run.child.status).code;
}

const root = new URL("../..", import.meta.url).pathname;

/**
 * Starts the server on `dataDir` (port 0) until it says where it listens, then stops it with SIGTERM; what it
 * printed on stdout and stderr by then and its exit code. `viaTask` starts it as an operator does,
 * `deno task server`; `permissions` replaces `-A` with these `deno run` flags.
 */
export async function startOnce(
  dataDir: string,
  options: { viaTask?: boolean; permissions?: string[] } = {},
): Promise<{ output: string; errors: string; code: number }> {
  const listen = ["--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir];
  const args = options.viaTask
    ? ["task", "-q", "server", ...listen]
    : options.permissions
    ? ["run", ...options.permissions, "server/main.ts", ...listen]
    : serverArgs(0, dataDir, ["--log", "silent"]);
  const child = new Deno.Command(options.viaTask ? "deno" : Deno.execPath(), {
    args,
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const errors = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let output = "";
  try {
    while (!output.includes("listening on")) {
      const { value, done } = await reader.read();
      if (done) break;
      output += value;
    }
  } finally {
    child.kill("SIGTERM");
    await reader.cancel();
  }
  return { output, errors: await errors, code: (await child.status).code };
}

/** Writes an operator token and a device key into the store of `dataDir` (made if need be), without a server. */
export function seedKeys(dataDir: string): { operator: string; device: string } {
  const db = openDatabase(dataDir, KEY_MIGRATIONS);
  try {
    const keys = new KeyStore(db);
    return { operator: keys.create("operator", "op").secret, device: keys.create("device", "dev").secret };
  } finally {
    db.close();
  }
}

/** Reads the first-start operator token and device key the server printed on stdout. */
export async function firstStartKeys(dataDir: string): Promise<{ operator: string; device: string }> {
  const { output } = await startOnce(dataDir);
  const operator = /operator token:\s+(a3o_\S+)/.exec(output)?.[1];
  const device = /device key:\s+(a3d_\S+)/.exec(output)?.[1];
  if (!operator || !device) throw new Error(`no first-start keys in:\n${output}`);
  return { operator, device };
}

/** A server process with a fresh data dir. */
export interface ServerProcess {
  port: number;
  url: string;
  operatorToken: string;
  /** The device key the first start printed. */
  deviceKey: string;
  child: Deno.ChildProcess;
  /** The process's resident set size in bytes (Linux, from /proc). */
  rssBytes(): Promise<number>;
  /** Whether the process has exited. */
  exited(): boolean;
  /** SIGTERM, wait, remove the data dir. */
  stop(): Promise<void>;
}

/** Starts `server/main.ts` on a free loopback port; extra flags are appended. */
export async function startServerProcess(
  flags: string[] = [],
  options: { fileDescriptorLimit?: number } = {},
): Promise<ServerProcess> {
  const dataDir = await Deno.makeTempDir({ prefix: "alien3-proc-" });
  const port = freePort();
  // With a descriptor limit, bash sets it and then becomes the server (exec): same process id.
  const limit = options.fileDescriptorLimit;
  const command = limit === undefined ? Deno.execPath() : "bash";
  const prefix = limit === undefined ? [] : ["-c", `ulimit -n ${limit} && exec "$0" "$@"`, Deno.execPath()];
  const child = new Deno.Command(command, {
    args: [...prefix, ...serverArgs(port, dataDir, ["--log", "silent", ...flags])],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let operatorToken: string | undefined;
  let deviceKey: string | undefined;
  while (!/listening on/.test(text)) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`the server exited before it listened: ${text}`);
    text += value;
    operatorToken ??= /operator token: (\S+)/.exec(text)?.[1];
    deviceKey ??= /device key:\s+(\S+)/.exec(text)?.[1];
  }
  void (async () => {
    while (!(await reader.read()).done) { /* keep the pipe drained */ }
  })().catch(() => {});
  let exited = false;
  void child.status.then(() => exited = true);
  if (operatorToken === undefined || deviceKey === undefined) {
    throw new Error(`no operator token or device key in the server's output: ${text}`);
  }
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    operatorToken,
    deviceKey,
    child,
    exited: () => exited,
    async rssBytes() {
      const status = await Deno.readTextFile(`/proc/${child.pid}/status`);
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
    },
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      await child.status;
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
  };
}
