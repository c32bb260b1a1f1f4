/**
 * Two transports joined back to back in memory, for tests: what one sends the other receives (copied,
 * in order, on a later microtask, as a socket would deliver it); closing either closes both.
 */
import {
  type CloseInfo,
  type Incoming,
  IncomingQueue,
  type Transport,
  type TransportSink,
} from "./transport.ts";

/** A pair of connected in-memory transports: `[a, b]`. */
export function memoryPair(): [MemoryTransport, MemoryTransport] {
  const a = new MemoryTransport();
  const b = new MemoryTransport();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

/** One end of an in-memory pair. */
export class MemoryTransport implements Transport {
  peer: MemoryTransport | null = null;
  /** Every frame this end sent, for assertions. */
  readonly sent: Uint8Array[] = [];
  readonly #incoming = new IncomingQueue();
  #sink: TransportSink | null = null;
  #closedInfo: CloseInfo | null = null;
  readonly #closed = Promise.withResolvers<CloseInfo>();
  #open = true;

  readonly closed: Promise<CloseInfo> = this.#closed.promise;
  readonly bufferedAmount = 0;

  get isOpen(): boolean {
    return this.#open;
  }

  send(bytes: Uint8Array): void {
    if (!this.#open) return;
    const copy = bytes.slice();
    this.sent.push(copy);
    const peer = this.peer;
    queueMicrotask(() => peer?.deliver(copy));
  }

  /** Delivers a frame as if the peer had sent it (text frames included). */
  deliver(frame: Uint8Array | string): void {
    if (!this.#open) return;
    if (this.#sink !== null) this.#sink.frame(frame);
    else this.#incoming.push(frame);
  }

  listen(sink: TransportSink): void {
    this.#sink = sink;
    for (const frame of this.#incoming.drain()) sink.frame(frame);
    if (this.#closedInfo !== null) sink.closed(this.#closedInfo);
  }

  close(code = 1000, reason = ""): void {
    if (!this.#open) return;
    this.#shut({ code, reason });
    const peer = this.peer;
    if (peer !== null) queueMicrotask(() => peer.#shut({ code, reason }));
  }

  [Symbol.asyncIterator](): AsyncIterator<Incoming> {
    return this.#incoming[Symbol.asyncIterator]();
  }

  #shut(info: CloseInfo): void {
    if (!this.#open) return;
    this.#open = false;
    this.#closedInfo = info;
    this.#incoming.end();
    this.#closed.resolve(info);
    this.#sink?.closed(info);
  }
}
