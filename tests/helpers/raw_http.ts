/**
 * HTTP/1.1 over a bare TCP socket, for tests that must control exactly which bytes go out and when: a
 * request head alone, a body in paced chunks, header lines trickled one at a time.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A parsed HTTP/1.1 response. */
export interface RawResponse {
  status: number;
  headers: Headers;
  body: string;
}

/** One TCP connection that speaks HTTP/1.1 by hand. */
export class RawHttp {
  #buffer = new Uint8Array(0);
  #chunk = new Uint8Array(64 * 1024);
  #pending: Promise<number | null> | null = null;
  #ended = false;

  private constructor(readonly conn: Deno.TcpConn) {}

  /** Connects to 127.0.0.1:`port`. */
  static async open(port: number): Promise<RawHttp> {
    return new RawHttp(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /** Writes all of `data` (text is UTF-8 encoded). */
  async write(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    for (let offset = 0; offset < bytes.length;) offset += await this.conn.write(bytes.subarray(offset));
  }

  /** Writes one chunk of a chunked body (an empty chunk ends the body). */
  async writeChunk(bytes: Uint8Array): Promise<void> {
    await this.write(`${bytes.length.toString(16)}\r\n`);
    if (bytes.length > 0) await this.write(bytes);
    await this.write("\r\n");
  }

  /** Reads one response (head and a Content-Length body); throws if none is complete within `timeoutMs`. */
  async readResponse(timeoutMs = 10_000): Promise<RawResponse> {
    const deadline = Date.now() + timeoutMs;
    let headEnd = -1;
    while ((headEnd = indexOfHeadEnd(this.#buffer)) < 0) await this.#fill(deadline, "a response head");
    const head = decoder.decode(this.#buffer.subarray(0, headEnd)).split("\r\n");
    const status = Number(head[0].split(" ")[1]);
    const headers = new Headers();
    for (const line of head.slice(1)) {
      const colon = line.indexOf(":");
      headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    }
    const length = Number(headers.get("content-length") ?? 0);
    while (this.#buffer.length < headEnd + 4 + length) await this.#fill(deadline, "the response body");
    const body = decoder.decode(this.#buffer.subarray(headEnd + 4, headEnd + 4 + length));
    this.#buffer = this.#buffer.slice(headEnd + 4 + length);
    return { status, headers, body };
  }

  /** Resolves true once the peer closes the connection, false if it is still open after `timeoutMs`. */
  async closedWithin(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    try {
      while (!this.#ended) await this.#fill(deadline, "the connection to close");
      return true;
    } catch (error) {
      if (error instanceof Deno.errors.TimedOut) return false;
      throw error;
    }
  }

  /** Closes the socket (twice is fine). */
  close(): void {
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }

  async #fill(deadline: number, what: string): Promise<void> {
    if (this.#ended) throw new Error(`connection closed before ${what} arrived`);
    // A read that outlives a deadline stays pending and is picked up by the next call: no bytes are lost.
    this.#pending ??= this.conn.read(this.#chunk);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), Math.max(1, deadline - Date.now()));
    });
    try {
      let read: number | null | "timeout";
      try {
        read = await Promise.race([this.#pending, timeout]);
      } catch (error) {
        this.#pending = null;
        if (!(error instanceof Deno.errors.ConnectionReset)) throw error;
        read = null;
      }
      if (read === "timeout") throw new Deno.errors.TimedOut(`no ${what} within the deadline`);
      this.#pending = null;
      if (read === null) {
        this.#ended = true;
        return;
      }
      const grown = new Uint8Array(this.#buffer.length + read);
      grown.set(this.#buffer);
      grown.set(this.#chunk.subarray(0, read), this.#buffer.length);
      this.#buffer = grown;
    } finally {
      clearTimeout(timer);
    }
  }
}

function indexOfHeadEnd(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return i;
  }
  return -1;
}
