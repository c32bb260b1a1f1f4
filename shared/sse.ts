/**
 * A Server-Sent Events parser: text in (in any pieces), events and comments out. The CLI and the dashboard
 * read `GET /api/events` with it (through fetch, so the token travels in a header, never in the URL).
 */

/** One dispatched event: `data` is its data lines joined with newlines. */
export interface SseEvent {
  kind: "event";
  id: string | null;
  event: string;
  data: string;
}

/** A comment line (`: keep-alive`), without the colon and the space after it. */
export interface SseComment {
  kind: "comment";
  text: string;
}

/** What a stream yields. */
export type SseItem = SseEvent | SseComment;

/** Parses the `text/event-stream` format; `push` returns what the text completed. */
export class SseParser {
  #buffer = "";
  #id: string | null = null;
  #event = "";
  #data: string[] = [];

  /** Feeds text; returns the events and comments whose lines are now complete. */
  push(text: string): SseItem[] {
    this.#buffer += text;
    const items: SseItem[] = [];
    let newline = this.#buffer.search(/\r\n|\r|\n/);
    while (newline !== -1) {
      // A lone CR at the end may be the first half of CRLF: wait for the next piece.
      if (this.#buffer[newline] === "\r" && newline === this.#buffer.length - 1) break;
      const line = this.#buffer.slice(0, newline);
      const width = this.#buffer.startsWith("\r\n", newline) ? 2 : 1;
      this.#buffer = this.#buffer.slice(newline + width);
      const item = this.#line(line);
      if (item !== null) items.push(item);
      newline = this.#buffer.search(/\r\n|\r|\n/);
    }
    return items;
  }

  #line(line: string): SseItem | null {
    if (line === "") {
      if (this.#data.length === 0) {
        this.#event = "";
        return null;
      }
      const event: SseEvent = {
        kind: "event",
        id: this.#id,
        event: this.#event || "message",
        data: this.#data.join("\n"),
      };
      this.#event = "";
      this.#data = [];
      return event;
    }
    if (line.startsWith(":")) return { kind: "comment", text: line.slice(1).trimStart() };
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.#data.push(value);
    else if (field === "event") this.#event = value;
    else if (field === "id" && !value.includes("\0")) this.#id = value;
    return null;
  }
}

/** The events and comments of an event-stream body, until it ends or `signal` aborts. */
export async function* readSse(
  body: ReadableStream<Uint8Array<ArrayBuffer>>,
  signal?: AbortSignal,
): AsyncGenerator<SseItem> {
  const parser = new SseParser();
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  const cancel = () => void reader.cancel().catch(() => {});
  signal?.addEventListener("abort", cancel);
  try {
    while (!signal?.aborted) {
      const { done, value } = await reader.read();
      if (done) return;
      yield* parser.push(value);
    }
  } finally {
    signal?.removeEventListener("abort", cancel);
    cancel();
  }
}
