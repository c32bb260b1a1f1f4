/**
 * One device socket: decodes frames, enforces limits and the message rate, counts protocol errors and
 * disconnects repeat offenders, writes frames with backpressure. It knows nothing of sessions: decoded
 * messages go to the handler the gateway supplies.
 */
import type { Clock } from "../../shared/clock.ts";
import {
  decodeFrame,
  encodeMessage,
  type Limits,
  type Message,
  type MessageType,
  type PayloadInputOf,
  type ProtocolError,
  protocolError,
} from "../../shared/protocol/mod.ts";
import { CloseCodes } from "./close_codes.ts";
import { TokenBucket, WindowCounter } from "./rate_limiter.ts";

/** Where a connection is in the handshake. */
export type ConnectionPhase = "awaiting-connect" | "awaiting-capabilities" | "ready" | "closed";

/** Options shared by every connection of a gateway. */
export interface ConnectionOptions {
  clock: Clock;
  limits: Limits;
  /** Protocol errors within `errorWindowMs` that get a connection closed. */
  maxErrors: number;
  errorWindowMs: number;
  /** Socket buffer above which droppable frames are dropped. */
  maxBufferedBytes: number;
}

/** What a connection reports to its owner. */
export interface ConnectionHandler {
  message(connection: Connection, message: Message): void;
  closed(connection: Connection, code: number, reason: string): void;
}

let nextConnectionNumber = 1;

/** A device socket and its protocol bookkeeping. */
export class Connection {
  readonly number = nextConnectionNumber++;
  phase: ConnectionPhase = "awaiting-connect";
  readonly openedAtMs: number;
  lastHeardAtMs: number;
  /** Set once CONNECT authenticated: the key and the session this socket serves. */
  keyId: string | null = null;
  sessionId: string | null = null;
  droppedFrames = 0;
  readonly #bucket: TokenBucket;
  readonly #errors: WindowCounter;

  constructor(
    readonly socket: WebSocket,
    readonly options: ConnectionOptions,
    readonly handler: ConnectionHandler,
  ) {
    const now = options.clock.now();
    this.openedAtMs = now;
    this.lastHeardAtMs = now;
    const rate = options.limits.maxMessagesPerSecond;
    this.#bucket = new TokenBucket(rate, rate * 2, now);
    this.#errors = new WindowCounter(options.errorWindowMs);
    socket.binaryType = "arraybuffer";
    socket.onmessage = (event) => this.#receive(event.data);
    socket.onclose = (event) => this.#onClosed(event.code, event.reason);
    socket.onerror = () => {};
  }

  /** Encodes and writes a message. Droppable messages are dropped when the peer falls behind. */
  send<T extends MessageType>(type: T, payload: PayloadInputOf<T>, droppable = false): boolean {
    if (this.phase === "closed" || this.socket.readyState !== WebSocket.OPEN) return false;
    if (droppable && this.socket.bufferedAmount > this.options.maxBufferedBytes) {
      this.droppedFrames++;
      return false;
    }
    this.socket.send(encodeMessage(type, payload, this.options.clock.now()));
    return true;
  }

  /** Sends an ERROR; with `closeCode`, closes the socket after it. */
  fail(error: ProtocolError, closeCode?: number): void {
    this.send("ERROR", error);
    if (closeCode !== undefined) this.close(closeCode, error.code);
  }

  /** Answers a protocol error that does not close by itself; closes the socket past the limit. */
  recordError(error: ProtocolError): void {
    const count = this.#errors.record(this.options.clock.now());
    if (count >= this.options.maxErrors) {
      const detail = `${count} errors within ${this.options.errorWindowMs} ms, last: ${error.code}`;
      this.fail(protocolError("too-many-errors", detail, error.ref), CloseCodes.tooManyErrors);
    } else {
      this.fail(error);
    }
  }

  /** Closes the socket; the close handler runs once. */
  close(code: number, reason: string): void {
    if (this.phase === "closed") return;
    try {
      this.socket.close(code, reason.slice(0, 120));
    } catch {
      // Already closing: the close event still arrives.
    }
    this.#onClosed(code, reason);
  }

  #receive(data: unknown): void {
    if (this.phase === "closed") return;
    const now = this.options.clock.now();
    this.lastHeardAtMs = now;
    if (!this.#bucket.take(now)) {
      const detail = `more than ${this.options.limits.maxMessagesPerSecond} messages/s`;
      return this.recordError(protocolError("rate-limited", detail));
    }
    if (typeof data === "string") return this.recordError(protocolError("text-frame"));
    if (!(data instanceof ArrayBuffer)) {
      return this.recordError(protocolError("bad-header", "not a binary frame"));
    }
    const decoded = decodeFrame(new Uint8Array(data), this.options.limits);
    if (!decoded.ok) return this.recordError(decoded.error);
    this.handler.message(this, decoded.value);
  }

  #onClosed(code: number, reason: string): void {
    if (this.phase === "closed") return;
    this.phase = "closed";
    this.handler.closed(this, code, reason);
  }
}
