/**
 * One device socket: decodes frames, enforces limits and the message rate (see `inbound_flow.ts`), counts
 * protocol errors and disconnects repeat offenders, writes frames with backpressure. It knows nothing of
 * sessions: decoded messages go to the handler the gateway supplies.
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
  RELIABLE_TYPES,
  TYPE_BY_CODE,
} from "../../shared/protocol/mod.ts";
import { CloseCodes } from "../../shared/protocol/mod.ts";
import { InboundFlow } from "./inbound_flow.ts";
import { WindowCounter } from "./rate_limiter.ts";

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
  readonly #flow: InboundFlow;
  readonly #errors: WindowCounter;

  constructor(
    readonly socket: WebSocket,
    readonly options: ConnectionOptions,
    readonly handler: ConnectionHandler,
  ) {
    const now = options.clock.now();
    this.openedAtMs = now;
    this.lastHeardAtMs = now;
    this.#flow = new InboundFlow(options.limits.maxMessagesPerSecond, now);
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
    if (typeof data === "string") return this.recordError(protocolError("text-frame"));
    if (!(data instanceof ArrayBuffer)) {
      return this.recordError(protocolError("bad-header", "not a binary frame"));
    }
    const bytes = new Uint8Array(data);
    const decoded = decodeFrame(bytes, this.options.limits);
    if (!decoded.ok) {
      const reliable = decoded.error.code === "frame-too-large" ? reliableTypeOf(bytes) : null;
      if (reliable !== null) {
        // Undecoded, so its seq is unknown: going on could skip a reliable message without anyone knowing.
        return this.fail({ ...decoded.error, ref: reliable }, CloseCodes.frameTooLarge);
      }
      return this.recordError(decoded.error);
    }
    const message = decoded.value;
    const seq = RELIABLE_TYPES.has(message.type) ? (message.payload as { seq: number }).seq : undefined;
    const admission = this.#flow.admit(message.type, seq, now);
    if (admission.action === "discard") return;
    if (admission.action === "refuse") {
      return admission.counted ? this.recordError(admission.error) : this.fail(admission.error);
    }
    this.handler.message(this, message);
  }

  #onClosed(code: number, reason: string): void {
    if (this.phase === "closed") return;
    this.phase = "closed";
    this.handler.closed(this, code, reason);
  }
}

/** The reliable type an undecoded frame's type byte names, if it names one. */
function reliableTypeOf(bytes: Uint8Array): MessageType | null {
  const type = TYPE_BY_CODE.get(bytes[0]);
  return type !== undefined && RELIABLE_TYPES.has(type) ? type : null;
}
