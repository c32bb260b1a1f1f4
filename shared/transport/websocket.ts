/**
 * A `Transport` over a standard WebSocket object: the browser's, Deno's client `new WebSocket(url)`, and
 * the socket `Deno.upgradeWebSocket` hands the server all share this one API, so one adapter serves all.
 */
import { type CloseInfo, IncomingQueue, type Transport } from "./transport.ts";

/** Wraps an open or opening WebSocket (its `binaryType` becomes `arraybuffer`). */
export function webSocketTransport(socket: WebSocket): Transport {
  socket.binaryType = "arraybuffer";
  const incoming = new IncomingQueue();
  const closed = Promise.withResolvers<CloseInfo>();
  let done = false;
  /** Our own close: nothing more is read or sent, but `closed` waits for the socket's close handshake. */
  let closing: CloseInfo | null = null;
  const finish = (info: CloseInfo) => {
    done = true;
    incoming.end();
    closed.resolve(closing ?? info);
  };
  socket.onmessage = (event) => {
    const data = event.data;
    if (data instanceof ArrayBuffer) incoming.push(new Uint8Array(data));
    else if (typeof data === "string") incoming.push(data);
  };
  socket.onclose = (event) => {
    if (!done) finish({ code: event.code, reason: event.reason });
  };
  socket.onerror = () => {};
  return {
    send(bytes) {
      if (!done && closing === null && socket.readyState === WebSocket.OPEN) socket.send(bytes);
    },
    close(code = 1000, reason = "") {
      if (done || closing !== null) return;
      closing = { code, reason };
      // Readers stop at once; `closed` settles when the close handshake is over, so what was sent just
      // before (a BYE) reaches the peer first.
      incoming.end();
      try {
        socket.close(code, reason.slice(0, 120));
      } catch {
        // Already closing: the close event still arrives.
      }
      if (socket.readyState === WebSocket.CLOSED) finish(closing);
    },
    closed: closed.promise,
    get bufferedAmount() {
      return socket.bufferedAmount;
    },
    get isOpen() {
      return !done && closing === null && socket.readyState === WebSocket.OPEN;
    },
    [Symbol.asyncIterator]: () => incoming[Symbol.asyncIterator](),
  };
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
