/**
 * The real server in its own process (`server/main.ts`), for checks that need its memory on its own:
 * the first start prints an operator token, which is read from its output.
 */
import { freePort } from "./ports.ts";

const serverMain = new URL("../../server/main.ts", import.meta.url).pathname;

/** A server process with a fresh data dir. */
export interface ServerProcess {
  port: number;
  url: string;
  operatorToken: string;
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
    args: [
      ...prefix,
      "run",
      "-A",
      serverMain,
      "--port",
      String(port),
      "--host",
      "127.0.0.1",
      "--data-dir",
      dataDir,
      "--log",
      "silent",
      ...flags,
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let operatorToken: string | undefined;
  while (!/listening on/.test(text)) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`the server exited before it listened: ${text}`);
    text += value;
    operatorToken ??= /operator token: (\S+)/.exec(text)?.[1];
  }
  void (async () => {
    while (!(await reader.read()).done) { /* keep the pipe drained */ }
  })().catch(() => {});
  let exited = false;
  void child.status.then(() => exited = true);
  if (operatorToken === undefined) throw new Error(`no operator token in the server's output: ${text}`);
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    operatorToken,
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
