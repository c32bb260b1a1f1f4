/** Runs the real device client as a child process, for end-to-end tests. */

/** A running client process. */
export interface ClientProcess {
  child: Deno.ChildProcess;
  filesDir: string;
  /** What the client wrote to stderr so far (JSON lines); empty unless started with `captureOutput`. */
  output(): string;
  /** Waits until stderr matches `pattern` (needs `captureOutput`); throws after `timeoutMs`. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Stops the client (SIGTERM), waits for it, and removes a files dir this helper made. */
  stop(): Promise<Deno.CommandStatus>;
}

const clientMain = new URL("../../client/main.ts", import.meta.url).pathname;

/** Starts `client/main.ts --connect url --key key --name name` with its own files dir. */
export async function startClient(
  url: string,
  key: string,
  name: string,
  options: {
    env?: Record<string, string>;
    extraArgs?: string[];
    filesDir?: string;
    /** Keep what the client writes to stderr, for `output()` and `waitForOutput()`. */
    captureOutput?: boolean;
  } = {},
): Promise<ClientProcess> {
  const ownDir = options.filesDir === undefined;
  const filesDir = options.filesDir ?? await Deno.makeTempDir({ prefix: `alien3-${name}-` });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      clientMain,
      "--connect",
      url,
      "--key",
      key,
      "--name",
      name,
      "--files-dir",
      filesDir,
      "--log",
      "json",
      ...(options.extraArgs ?? []),
    ],
    env: { DISPLAY: "", ...options.env },
    stdin: "null",
    stdout: "null",
    stderr: options.captureOutput ? "piped" : "null",
  }).spawn();
  let output = "";
  const drained = options.captureOutput
    ? child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
      new WritableStream({ write: (chunk) => void (output += chunk) }),
    ).catch(() => {})
    : Promise.resolve();
  return {
    child,
    filesDir,
    output: () => output,
    async waitForOutput(pattern, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(output)) {
        if (Date.now() > deadline) throw new Error(`client output never matched ${pattern}:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // Already gone.
      }
      const status = await child.status;
      await drained;
      if (ownDir) await Deno.remove(filesDir, { recursive: true }).catch(() => {});
      return status;
    },
  };
}
