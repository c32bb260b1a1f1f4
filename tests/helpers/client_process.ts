/** Runs the real device client as a child process, for end-to-end tests. */

/** A running client process. */
export interface ClientProcess {
  child: Deno.ChildProcess;
  filesDir: string;
  /** Stops the client (SIGTERM), waits for it, and removes a files dir this helper made. */
  stop(): Promise<Deno.CommandStatus>;
}

const clientMain = new URL("../../client/main.ts", import.meta.url).pathname;

/** Starts `client/main.ts --connect url --key key --name name` with its own files dir. */
export async function startClient(
  url: string,
  key: string,
  name: string,
  options: { env?: Record<string, string>; extraArgs?: string[]; filesDir?: string } = {},
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
    stderr: "null",
  }).spawn();
  return {
    child,
    filesDir,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // Already gone.
      }
      const status = await child.status;
      if (ownDir) await Deno.remove(filesDir, { recursive: true }).catch(() => {});
      return status;
    },
  };
}
