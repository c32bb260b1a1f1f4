/** Reading what a child process prints, and a helper process spoken to in lines, for benchmarks. */

/** A child's output read as text: line by line, or up to a marker such as `ready`. */
export class LineReader {
  readonly #reader: ReadableStreamDefaultReader<string>;
  #buffered = "";

  constructor(stream: ReadableStream<Uint8Array<ArrayBuffer>>) {
    this.#reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** The next line; throws when the output ends first. */
  async line(): Promise<string> {
    await this.#readUntil("\n");
    const index = this.#buffered.indexOf("\n");
    const line = this.#buffered.slice(0, index);
    this.#buffered = this.#buffered.slice(index + 1);
    return line;
  }

  /** Everything not yet read, up to the piece that holds `marker`; throws when the output ends first. */
  async until(marker: string): Promise<string> {
    await this.#readUntil(marker);
    const text = this.#buffered;
    this.#buffered = "";
    return text;
  }

  /** Stops reading (the child's later output is discarded). */
  cancel(): Promise<void> {
    return this.#reader.cancel().catch(() => {});
  }

  async #readUntil(marker: string): Promise<void> {
    while (!this.#buffered.includes(marker)) {
      const { value, done } = await this.#reader.read();
      if (done) {
        throw new Error(`the process exited before printing ${JSON.stringify(marker)}: ${this.#buffered}`);
      }
      this.#buffered += value;
    }
  }
}

/** A helper process spoken to in lines (stdin) that answers in lines (stdout). */
export class LineProcess {
  readonly #child: Deno.ChildProcess;
  readonly #lines: LineReader;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#lines = new LineReader(child.stdout);
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
  line(): Promise<string> {
    return this.#lines.line();
  }

  /** Reads lines until one equals `wanted`. */
  async expect(wanted: string): Promise<void> {
    while ((await this.line()) !== wanted) { /* skip */ }
  }

  /** Closes its stdin and waits for it to exit. */
  async close(): Promise<void> {
    await this.#writer.close().catch(() => {});
    await this.#lines.cancel();
    await this.#child.status;
  }
}
