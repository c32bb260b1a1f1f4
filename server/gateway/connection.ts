/**
 * One device transport: decodes frames, enforces the size limits and the message rate (see
 * `inbound_flow.ts`), counts protocol errors and disconnects repeat offenders, writes frames. It knows
 * nothing of sessions: decoded messages and the close go to the handler the gateway supplies.
 */
import type { Clock } from "../../shared/clock.ts";
import type { Result } from "../../shared/result.ts";
import {
  CloseCodes,
  decodeFrames,
  encodeMessage,
  type FrameVisitor,
  type Limits,
  type Message,
  type MessageType,
  type PayloadInputOf,
  type ProtocolError,
  protocolError,
  RELIABLE_TYPES,
  TYPE_BY_CODE,
} from "../../shared/protocol/mod.ts";
import type { CloseInfo, Incoming, Transport, TransportSink } from "../../shared/transport/transport.ts";
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
}

/** What a connection reports to its owner. */
export interface ConnectionHandler {
  message(connection: Connection, message: Message): void;
  closed(connection: Connection, code: number, reason: string): void;
}

/** A device transport and its protocol bookkeeping; it is its transport's sink in push mode. */
export class Connection implements TransportSink {
  phase: ConnectionPhase = "awaiting-connect";
  readonly openedAtMs: number;
  lastHeardAtMs: number;
  /** Set once CONNECT authenticated: the key and the session this transport serves. */
  keyId: string | null = null;
  sessionId: string | null = null;
  readonly #flow: InboundFlow;
  /** Made at the first protocol error: a well-behaved device never needs it. */
  #errors: WindowCounter | null = null;

  constructor(
    readonly transport: Transport,
    readonly options: ConnectionOptions,
    readonly handler: ConnectionHandler,
  ) {
    const now = options.clock.now();
    this.openedAtMs = now;
    this.lastHeardAtMs = now;
    this.#flow = new InboundFlow(options.limits.maxMessagesPerSecond, now);
    if (transport.listen !== undefined) transport.listen(this);
    else this.#pull(transport[Symbol.asyncIterator]());
  }

  /** The transport's push: a frame arrived. */
  frame(frame: Incoming): void {
    this.#receive(frame);
  }

  /** The transport's push: it closed. */
  closed(info: CloseInfo): void {
    this.#onClosed(info.code, info.reason);
  }

  /** Encodes and writes a message now; false once closed. */
  send<T extends MessageType>(type: T, payload: PayloadInputOf<T>): boolean {
    if (this.phase === "closed" || !this.transport.isOpen) return false;
    this.transport.send(encodeMessage(type, payload, this.options.clock.now()));
    return true;
  }

  /** Sends an ERROR; with `closeCode`, closes the transport after it. */
  fail(error: ProtocolError, closeCode?: number): void {
    this.send("ERROR", error);
    if (closeCode !== undefined) this.close(closeCode, error.code);
  }

  /** Answers a protocol error that does not close by itself; closes the transport past the limit. */
  recordError(error: ProtocolError): void {
    this.#errors ??= new WindowCounter(this.options.errorWindowMs);
    const count = this.#errors.record(this.options.clock.now());
    if (count >= this.options.maxErrors) {
      const detail = `${count} errors within ${this.options.errorWindowMs} ms, last: ${error.code}`;
      this.fail(protocolError("too-many-errors", detail, error.ref), CloseCodes.tooManyErrors);
    } else {
      this.fail(error);
    }
  }

  /** Closes the transport; the close handler runs once. */
  close(code: number, reason: string): void {
    if (this.phase === "closed") return;
    this.transport.close(code, reason);
    this.#onClosed(code, reason);
  }

  /** Reads frames from a transport without push mode. */
  async #pull(frames: AsyncIterator<Incoming>): Promise<void> {
    for (let next = await frames.next(); !next.done; next = await frames.next()) this.#receive(next.value);
    this.closed(await this.transport.closed);
  }

  #receive(frame: Incoming): void {
    if (this.phase === "closed") return;
    const now = this.options.clock.now();
    this.lastHeardAtMs = now;
    if (typeof frame === "string") return this.recordError(protocolError("text-frame"));
    decodeFrames(frame, this.options.limits, visitFrame, this);
  }

  /** One frame of an incoming message (`visitFrame` calls it: no closure per connection). */
  receiveFrame(decoded: Result<Message, ProtocolError>, frame: Uint8Array): void {
    if (this.phase === "closed") return;
    const now = this.lastHeardAtMs; // the time its message arrived
    if (!decoded.ok) {
      const reliable = decoded.error.code === "frame-too-large" ? reliableTypeOf(frame) : null;
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

const visitFrame: FrameVisitor<Connection> = (connection, decoded, frame) =>
  connection.receiveFrame(decoded, frame);

/** The reliable type an undecoded frame's type byte names, if it names one. */
function reliableTypeOf(bytes: Uint8Array): MessageType | null {
  const type = TYPE_BY_CODE.get(bytes[0]);
  return type !== undefined && RELIABLE_TYPES.has(type) ? type : null;
}
