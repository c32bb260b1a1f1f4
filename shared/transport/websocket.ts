/**
 * A `Transport` over a standard WebSocket object: the browser's, Deno's client `new WebSocket(url)`, and
 * the socket `Deno.upgradeWebSocket` hands the server all share this one API, so one adapter serves all.
 * It is a class listening with `handleEvent` rather than a set of closures: a server holds one per device,
 * and each closure, handler wrapper and promise made up front is memory every idle device costs.
 */
import {
  type CloseInfo,
  type Incoming,
  IncomingQueue,
  type Transport,
  type TransportSink,
} from "./transport.ts";

/** Wraps an open or opening WebSocket (its `binaryType` becomes `arraybuffer`). */
export function webSocketTransport(socket: WebSocket): Transport {
  return new WebSocketTransport(socket);
}

/** The WebSocket adapter; see `webSocketTransport`. */
export class WebSocketTransport implements Transport {
  readonly #socket: WebSocket;
  /** Frames for the iterator (made when first needed), or the sink of push mode. */
  #incoming: IncomingQueue | null = null;
  #sink: TransportSink | null = null;
  /** How it closed, once it has (the socket's close, or our own close once its handshake is over). */
  #closedInfo: CloseInfo | null = null;
  /** Our own close: nothing more is read or sent, but `closed` waits for the socket's close handshake. */
  #closing: CloseInfo | null = null;
  #closed: Promise<CloseInfo> | null = null;
  #resolveClosed: ((info: CloseInfo) => void) | null = null;

  constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.binaryType = "arraybuffer";
    // An error event is always followed by a close event, which is what ends the transport.
    socket.addEventListener("message", this);
    socket.addEventListener("close", this);
  }

  /** The socket's events (the object itself is the listener: no closure per socket). */
  handleEvent(event: Event): void {
    if (event.type === "message") {
      const data = (event as MessageEvent).data;
      const frame = data instanceof ArrayBuffer
        ? new Uint8Array(data)
        : typeof data === "string"
        ? data
        : null;
      if (frame === null || this.#closing !== null) return;
      if (this.#sink !== null) this.#sink.frame(frame);
      else this.#queue().push(frame);
    } else if (event.type === "close" && this.#closedInfo === null) {
      const { code, reason } = event as CloseEvent;
      this.#finish({ code, reason });
    }
  }

  send(bytes: Uint8Array): void {
    if (this.#closedInfo === null && this.#closing === null && this.#socket.readyState === WebSocket.OPEN) {
      this.#socket.send(bytes);
    }
  }

  close(code = 1000, reason = ""): void {
    if (this.#closedInfo !== null || this.#closing !== null) return;
    this.#closing = { code, reason };
    // Readers stop at once; `closed` settles when the close handshake is over, so what was sent just
    // before (a BYE) reaches the peer first.
    this.#incoming?.end();
    try {
      this.#socket.close(code, reason.slice(0, 120));
    } catch {
      // Already closing: the close event still arrives.
    }
    if (this.#socket.readyState === WebSocket.CLOSED) this.#finish(this.#closing);
  }

  /** Made when first asked for: most transports are only asked once they have closed. */
  get closed(): Promise<CloseInfo> {
    if (this.#closed === null) {
      const info = this.#closedInfo;
      this.#closed = info !== null
        ? Promise.resolve(info)
        : new Promise((resolve) => (this.#resolveClosed = resolve));
    }
    return this.#closed;
  }

  get bufferedAmount(): number {
    return this.#socket.bufferedAmount;
  }

  get isOpen(): boolean {
    return this.#closedInfo === null && this.#closing === null && this.#socket.readyState === WebSocket.OPEN;
  }

  [Symbol.asyncIterator](): AsyncIterator<Incoming> {
    return this.#queue()[Symbol.asyncIterator]();
  }

  listen(sink: TransportSink): void {
    const early = this.#incoming?.drain() ?? [];
    this.#incoming = null;
    this.#sink = sink;
    for (const frame of early) sink.frame(frame);
    if (this.#closedInfo !== null) sink.closed(this.#closedInfo);
  }

  #queue(): IncomingQueue {
    if (this.#incoming === null) {
      this.#incoming = new IncomingQueue();
      if (this.#closing !== null || this.#closedInfo !== null) this.#incoming.end();
    }
    return this.#incoming;
  }

  #finish(info: CloseInfo): void {
    const closedInfo = this.#closing ?? info;
    this.#closedInfo = closedInfo;
    this.#socket.removeEventListener("message", this);
    this.#socket.removeEventListener("close", this);
    this.#incoming?.end();
    this.#resolveClosed?.(closedInfo);
    this.#resolveClosed = null;
    this.#sink?.closed(closedInfo);
  }
}

/**
 * Opens `url` and resolves with its transport once connected; rejects with the reason when it cannot
 * connect. `open` builds the socket (tests and TLS settings inject their own).
 */
export function connectWebSocket(
  url: string,
  open: (url: string) => WebSocket = (target) => new WebSocket(target),
): Promise<Transport> {
  return new Promise((resolve, reject) => {
    let socket: WebSocket;
    try {
      socket = open(url);
    } catch (error) {
      return reject(new Error(`Cannot open ${url}: ${(error as Error).message}`));
    }
    socket.binaryType = "arraybuffer";
    const failed = (event: Event) => {
      const code = (event as CloseEvent).code;
      reject(new Error(`Cannot connect to ${url}: connection closed (${code ?? "error"})`));
    };
    socket.addEventListener("close", failed, { once: true });
    socket.addEventListener("open", () => {
      socket.removeEventListener("close", failed);
      resolve(webSocketTransport(socket));
    }, { once: true });
  });
}
