/**
 * Runs the operator CLI as an operator would, `deno task a3 …` (so the task's permissions are the ones
 * tested), with its own empty config dir so the machine's own `~/.config/alien3/cli.json` never leaks in.
 */

const root = new URL("../..", import.meta.url).pathname;
const decoder = new TextDecoder();

/** What a finished run printed and its exit code. */
export interface A3Output {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment of a CLI run: no server, token or config from the outside unless given. */
export function a3Env(configHome: string, env: Record<string, string> = {}): Record<string, string> {
  return {
    ALIEN3_SERVER: "",
    ALIEN3_TOKEN: "",
    ALIEN3_CONFIG: "",
    XDG_CONFIG_HOME: configHome,
    NO_COLOR: "1",
    ...env,
  };
}

/**
 * The child's whole environment: this process's, without `INIT_CWD` (set when the suite itself runs under
 * `deno task`, and kept by a nested `deno task`), plus `env`; the CLI then sees what an operator's shell gives.
 */
function childEnv(env: Record<string, string>): Record<string, string> {
  const base = Deno.env.toObject();
  delete base.INIT_CWD;
  return { ...base, ...env };
}

/** Runs `deno task -q a3 ...args` to its end, started in the project's folder or in `cwd`. */
export async function runA3(args: string[], env: Record<string, string>, cwd?: string): Promise<A3Output> {
  const output = await new Deno.Command("deno", {
    args: ["task", "-q", "--config", `${root}deno.json`, "a3", ...args],
    cwd: cwd ?? root,
    env: childEnv(env),
    clearEnv: true,
    stdin: "null",
  }).output();
  return { code: output.code, stdout: decoder.decode(output.stdout), stderr: decoder.decode(output.stderr) };
}

/** Runs the CLI in a pseudo-terminal (`script -qec`), so its stdout is a TTY; returns what the terminal got. */
export async function runA3InTerminal(args: string[], env: Record<string, string>): Promise<A3Output> {
  const quoted = ["deno", "task", "-q", "a3", ...args].map((arg) => `'${arg.replaceAll("'", `'\\''`)}'`).join(
    " ",
  );
  const output = await new Deno.Command("script", {
    args: ["-qec", quoted, "/dev/null"],
    cwd: root,
    env: childEnv(env),
    clearEnv: true,
    stdin: "null",
  }).output();
  return { code: output.code, stdout: decoder.decode(output.stdout), stderr: decoder.decode(output.stderr) };
}

/** A CLI process that keeps running (`events`): its output as it comes, line by line. */
export class A3Process {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  readonly #child: Deno.ChildProcess;
  readonly #done: Promise<void>;

  constructor(args: string[], env: Record<string, string>) {
    // The task's own command, run without the `deno task` wrapper so that a signal reaches the CLI itself.
    this.#child = new Deno.Command(Deno.execPath(), {
      args: [...taskArgs(), ...args],
      cwd: root,
      env: childEnv(env),
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#done = Promise.all([
      collect(this.#child.stdout, this.stdout),
      collect(this.#child.stderr, this.stderr),
    ])
      .then(() => {});
  }

  /** Waits until a line of `stream` matches; returns it. */
  async line(stream: "stdout" | "stderr", pattern: RegExp, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this[stream].find((line) => pattern.test(line));
      if (found !== undefined) return found;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(
      `no ${stream} line matching ${pattern} in ${timeoutMs} ms; got:\n${this[stream].join("\n")}`,
    );
  }

  /** The exit status once the process ends by itself. */
  async status(): Promise<Deno.CommandStatus> {
    const status = await this.#child.status;
    await this.#done;
    return status;
  }

  /** Sends `signal` (SIGINT by default) and waits for the exit. */
  async stop(signal: Deno.Signal = "SIGINT"): Promise<Deno.CommandStatus> {
    try {
      this.#child.kill(signal);
    } catch {
      // Already gone.
    }
    return await this.status();
  }
}

/** The arguments after `deno` in deno.json's `a3` task. */
function taskArgs(): string[] {
  const config = JSON.parse(Deno.readTextFileSync(`${root}deno.json`)) as { tasks: Record<string, string> };
  const [program, ...args] = config.tasks.a3.split(/\s+/);
  if (program !== "deno") throw new Error(`the a3 task does not start with deno: ${config.tasks.a3}`);
  return args;
}

async function collect(stream: ReadableStream<Uint8Array<ArrayBuffer>>, lines: string[]): Promise<void> {
  let partial = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (partial + text).split("\n");
    partial = parts.pop()!;
    lines.push(...parts);
  }
  if (partial !== "") lines.push(partial);
}
