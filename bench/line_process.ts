/** A helper process spoken to in lines (stdin) that answers in lines (stdout), for benchmarks. */
export class LineProcess {
  readonly #child: Deno.ChildProcess;
  readonly #lines: ReadableStreamDefaultReader<string>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  #buffered = "";

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    this.#writer = child.stdin.getWriter();
  }

  /** `deno run -A ...args`, stderr passed through. */
  static start(args: string[]): LineProcess {
    return new LineProcess(
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", ...args],
        stdin: "piped",
        stdout: "piped",
        stderr: "inherit",
      }).spawn(),
    );
  }

  /** The process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Sends one line. */
  send(line: string): void {
    void this.#writer.write(new TextEncoder().encode(`${line}\n`));
  }

  /** The next line it prints. */
  async line(): Promise<string> {
    while (!this.#buffered.includes("\n")) {
      const { value, done } = await this.#lines.read();
      if (done) throw new Error("the helper process exited");
      this.#buffered += value;
    }
    const index = this.#buffered.indexOf("\n");
    const line = this.#buffered.slice(0, index);
    this.#buffered = this.#buffered.slice(index + 1);
    return line;
  }

  /** Reads lines until one equals `wanted`. */
  async expect(wanted: string): Promise<void> {
    while ((await this.line()) !== wanted) { /* skip */ }
  }

  /** Closes its stdin and waits for it to exit. */
  async close(): Promise<void> {
    await this.#writer.close().catch(() => {});
    await this.#lines.cancel().catch(() => {});
    await this.#child.status;
  }
}
