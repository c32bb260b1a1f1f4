/** A Server-Sent Events reader for tests: parses `id:`, `event:` and `data:` fields as they stream in. */

/** One parsed event. */
export interface SseEvent {
  id: number | null;
  event: string;
  data: Record<string, unknown>;
}

/** An open `text/event-stream` response. */
export class SseStream {
  /** Every event parsed so far, in order. */
  readonly events: SseEvent[] = [];
  /** Comment lines (`: …`) seen so far. */
  readonly comments: string[] = [];
  #reader: ReadableStreamDefaultReader<string>;
  #text = "";
  #consumed = 0;
  #pending: Promise<ReadableStreamReadResult<string>> | null = null;
  #ended = false;

  constructor(readonly response: Response) {
    if (response.status !== 200) throw new Error(`event stream answered ${response.status}`);
    this.#reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** The next event not yet returned that satisfies `match` (events before it are skipped but kept in `events`). */
  async next(match: (event: SseEvent) => boolean = () => true, timeoutMs = 10_000): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      while (this.#consumed < this.events.length) {
        const event = this.events[this.#consumed++];
        if (match(event)) return event;
      }
      if (this.#ended) throw new Error("the event stream ended before the event arrived");
      if (!(await this.#read(deadline))) throw new Error(`no matching event within ${timeoutMs} ms`);
    }
  }

  /** The first event so far, returned or not, that satisfies `match`, waiting for it if need be. */
  async seen(match: (event: SseEvent) => boolean, timeoutMs = 10_000): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const found = this.events.find(match);
      if (found !== undefined) return found;
      if (this.#ended) throw new Error("the event stream ended before the event arrived");
      if (!(await this.#read(deadline))) throw new Error(`no matching event within ${timeoutMs} ms`);
    }
  }

  /** Waits until a comment containing `text` has arrived. */
  async comment(text: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.comments.some((c) => c.includes(text))) {
      if (this.#ended || !(await this.#read(deadline))) throw new Error(`no comment "${text}"`);
    }
  }

  /** Resolves true once the server ends the stream, false if it is still open after `timeoutMs`. */
  async ended(timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#ended) if (!(await this.#read(deadline))) return false;
    return true;
  }

  /** Stops reading. */
  async close(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }

  /** Reads one chunk; false when the deadline passed first. */
  async #read(deadline: number): Promise<boolean> {
    this.#pending ??= this.#reader.read();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), Math.max(1, deadline - Date.now()));
    });
    let result: ReadableStreamReadResult<string> | "timeout";
    try {
      result = await Promise.race([this.#pending, timeout]);
    } catch {
      result = { done: true, value: undefined };
    } finally {
      clearTimeout(timer);
    }
    if (result === "timeout") return false;
    this.#pending = null;
    if (result.done) {
      this.#ended = true;
      return true;
    }
    this.#text += result.value;
    let end: number;
    while ((end = this.#text.indexOf("\n\n")) >= 0) {
      const block = this.#text.slice(0, end);
      this.#text = this.#text.slice(end + 2);
      this.#parse(block);
    }
    return true;
  }

  #parse(block: string): void {
    let id: number | null = null;
    let event = "message";
    let data = "";
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) this.comments.push(line.slice(1).trim());
      else if (line.startsWith("id: ")) id = Number(line.slice(4));
      else if (line.startsWith("event: ")) event = line.slice(7);
      else if (line.startsWith("data: ")) data += line.slice(6);
    }
    if (data !== "") this.events.push({ id, event, data: JSON.parse(data) });
  }
}
