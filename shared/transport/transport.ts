/**
 * The narrow seam between the protocol and the bytes: every side (gateway, Deno client, browser client)
 * speaks through a `Transport`, and tests put an in-memory pair where a socket would be. Modelled on
 * nats.js's `Transport`: send bytes, iterate incoming frames, close, learn how it closed.
 */

/** How a transport closed: a WebSocket close code and reason. */
export interface CloseInfo {
  code: number;
  reason: string;
}

/** One incoming frame: bytes, or a string for a text frame (which the protocol refuses). */
export type Incoming = Uint8Array | string;

/** Where a transport in push mode delivers (see `Transport.listen`). */
export interface TransportSink {
  /** An incoming frame, in order. */
  frame(frame: Incoming): void;
  /** The transport closed (after its last frame), with the code and reason; called once. */
  closed(info: CloseInfo): void;
}

/** A message transport. Iterating it yields incoming frames in order and ends when it closes. */
export interface Transport extends AsyncIterable<Incoming> {
  /**
   * Push mode, where a transport offers it: frames go to `sink` as they arrive, instead of to the
   * iterator, so no promise is made per frame or held while idle (the gateway holds one transport per
   * device). Call once, instead of iterating; frames that came before are delivered at once.
   */
  listen?(sink: TransportSink): void;
  /** Sends one binary frame; dropped once the transport is closed or closing. */
  send(bytes: Uint8Array): void;
  /** Closes with a WebSocket close code and reason; closing twice is harmless. */
  close(code?: number, reason?: string): void;
  /** Settles once, when the transport has closed (either side), with the code and reason. */
  readonly closed: Promise<CloseInfo>;
  /** Bytes queued but not yet written to the network, for backpressure decisions. */
  readonly bufferedAmount: number;
  /** Whether `send` still writes. */
  readonly isOpen: boolean;
}

/**
 * The receiving half every adapter shares: a queue of incoming frames read through `for await` (by one
 * reader: the queue is its own iterator). Frames pushed while nobody waits are kept in order; `end()` lets
 * the reader drain them and then stop.
 */
export class IncomingQueue implements AsyncIterableIterator<Incoming> {
  #items: Incoming[] = [];
  #head = 0;
  #ended = false;
  #waiter: ((result: IteratorResult<Incoming>) => void) | null = null;

  /** Queues a frame (ignored after `end`). */
  push(item: Incoming): void {
    if (this.#ended) return;
    const waiter = this.#waiter;
    if (waiter !== null) {
      this.#waiter = null;
      waiter({ value: item, done: false });
    } else this.#items.push(item);
  }

  /** Takes every queued frame out of the queue (a reader switching to push mode). */
  drain(): Incoming[] {
    const items = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    return items;
  }

  /** No more frames: the reader gets what is queued, then the iteration ends. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Incoming> {
    return this;
  }

  /** The next frame: at once when one is queued, else when one is pushed or the queue ends. */
  next(): Promise<IteratorResult<Incoming>> {
    if (this.#head < this.#items.length) {
      const value = this.#items[this.#head];
      this.#items[this.#head++] = undefined as unknown as Incoming;
      // Drained: start again at the front, so a queue that ran ahead holds nothing it delivered.
      if (this.#head === this.#items.length) {
        this.#items.length = 0;
        this.#head = 0;
      } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
        this.#items = this.#items.slice(this.#head);
        this.#head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.#waiter = resolve));
  }

  /** The reader stopped early: the queue ends. */
  return(): Promise<IteratorResult<Incoming>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }
}

/** Why a TLS connection was refused (see `TlsError`). */
export type TlsFailure =
  | "untrusted"
  | "name-mismatch"
  | "fingerprint-mismatch"
  | "server-not-tls"
  | "server-is-tls"
  | "handshake";

/**
 * A connection attempt refused for a TLS reason that retrying cannot mend (an untrusted or mismatched
 * certificate, TLS on one side only). The message names the problem and what to change; `retryable` is
 * false so that a client stops instead of retrying the same mistake.
 */
export class TlsError extends Error {
  readonly retryable = false;

  constructor(message: string, readonly failure: TlsFailure) {
    super(message);
    this.name = "TlsError";
  }
}
