/**
 * The reliable half of a session, the same on both sides of the control path: reliable messages are
 * numbered and kept until the peer acknowledges them, replayed after a resume, and de-duplicated on
 * arrival; acknowledgements are cumulative and ride right behind the next message written (or go alone
 * after `ackDelayMs`). A paced channel (the device's) also meters what it writes to the rate the peer
 * announced, queuing instead of dropping, and on a `rate-limited` refusal sends the refused message and
 * everything after it again once `retryAfterMs` has passed. The channel outlives its transports: it is
 * attached to each new one and detached when it drops.
 */
import type { Timers } from "../clock.ts";
import type { Transport } from "../transport/transport.ts";
import { encodeMessage } from "./codec.ts";
import type { ProtocolError } from "./errors.ts";
import { type Message, type MessageType, type PayloadInputOf, RELIABLE_TYPES } from "./messages.ts";
import { ReliableInbox, ReliableOutbox } from "./reliable.ts";
import { SendPacer } from "./send_pacer.ts";

/** Settings of a channel. */
export interface ChannelOptions {
  timers: Timers;
  /**
   * How long an acknowledgement may wait for a message to ride behind: 0 acknowledges after the current
   * turn (the server's choice), the device waits 20 ms. An ACK written alone just before a reply leaves
   * bytes unacknowledged in flight, and Nagle's algorithm can then hold the reply for ~40 ms.
   */
  ackDelayMs: number;
  /** Meter writes to the rate set by `setRate` (the device side). */
  paced?: boolean;
}

/** What `receive` made of an incoming message. */
export type Receipt = "deliver" | "duplicate" | "handled";

interface Outgoing {
  type: MessageType;
  payload: object;
}

/** Bytes an outgoing item adds to the queue, for senders of bulk data: binary payloads count in full. */
function sizeOf(item: Outgoing): number {
  return item.payload instanceof Uint8Array ? item.payload.byteLength : 64;
}

/** Reliable, acknowledged, optionally paced delivery over a series of transports. */
export class ReliableChannel {
  readonly #options: ChannelOptions;
  // Made at the first reliable message each way: a server holds a channel per idle device.
  #outboxOrNull: ReliableOutbox | null = null;
  #inboxOrNull: ReliableInbox | null = null;
  #transport: Transport | null = null;
  #ackTimer: unknown;
  readonly #pacer: SendPacer<Outgoing> | null;
  #pumpTimer: unknown;
  /** A SEQ_ACK still waiting in the pacer: a newer one updates it instead of queuing another. */
  #queuedAck: Outgoing | null = null;
  /** Highest reliable seq the pacer let out on the current transport (only `refused` reads it). */
  #writtenThrough = 0;
  /** While held, new reliable messages are only kept; the first seq kept that way. */
  #held = false;
  #heldFrom: number | null = null;

  constructor(options: ChannelOptions) {
    this.#options = options;
    this.#pacer = options.paced ? new SendPacer<Outgoing>(sizeOf) : null;
  }

  /** Highest reliable seq received (sent as SEQ_ACK, and in CONNECT/ACK on resume). */
  get lastSeq(): number {
    return this.#inboxOrNull?.lastSeq ?? 0;
  }

  /** Reliable messages sent and not yet acknowledged. */
  get pendingCount(): number {
    return this.#outboxOrNull?.pendingCount ?? 0;
  }

  get #outbox(): ReliableOutbox {
    return this.#outboxOrNull ??= new ReliableOutbox();
  }

  get #inbox(): ReliableInbox {
    return this.#inboxOrNull ??= new ReliableInbox();
  }

  /** Whether a transport is attached and open. */
  get attached(): boolean {
    return this.#transport?.isOpen ?? false;
  }

  /** Bytes waiting to go: queued by the pacer plus those in the transport. */
  get bufferedAmount(): number {
    return (this.#transport?.bufferedAmount ?? 0) + (this.#pacer?.queuedBytes ?? 0);
  }

  /** Messages waiting in the pacer for their turn. */
  get queuedMessages(): number {
    return this.#pacer?.length ?? 0;
  }

  /** Writes go to `transport` from now on; nothing is metered until `setRate`. */
  attach(transport: Transport): void {
    this.#resetWrites();
    this.#transport = transport;
  }

  /**
   * Keeps new reliable messages without writing them (the peer cannot take them yet, as during a
   * handshake) until `release`; unreliable ones are not sent meanwhile. `write` is not affected.
   */
  hold(): void {
    this.#held = true;
  }

  /** Ends a hold: writes, in order, the reliable messages kept during it that no replay wrote. */
  release(): void {
    this.#held = false;
    const from = this.#heldFrom;
    this.#heldFrom = null;
    if (from === null) return;
    for (const pending of this.#outbox.replayAfter(0)) {
      if (pending.seq >= from) this.write(pending.type, pending.payload as never);
    }
  }

  /** The transport is gone: writes stop (reliable messages stay kept for the next one). */
  detach(): void {
    this.#resetWrites();
    this.#transport = null;
    this.#options.timers.clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
  }

  /** A fresh session: forgets every kept message and the inbox position. */
  reset(): void {
    this.#outboxOrNull = null;
    this.#inboxOrNull = null;
    this.#heldFrom = null;
  }

  /** Meters writes to `ratePerSecond` (paced channels; null writes at once). */
  setRate(ratePerSecond: number | null): void {
    this.#pacer?.setRate(ratePerSecond, this.#options.timers.now());
  }

  /**
   * Sends a message. A reliable one is numbered and kept until acknowledged (written now if attached,
   * replayed otherwise) and the call returns true; others are written if attached.
   */
  send<T extends MessageType>(type: T, payload: Omit<PayloadInputOf<T>, "seq">): boolean {
    if (RELIABLE_TYPES.has(type)) {
      const stamped = this.#outbox.stamp(type, payload);
      if (this.#held) this.#heldFrom ??= (stamped as { seq: number }).seq;
      else this.write(type, stamped);
      return true;
    }
    return !this.#held && this.write(type, payload as PayloadInputOf<T>);
  }

  /** Writes a message as it is (no numbering) if attached; false when it could not be written. */
  write<T extends MessageType>(type: T, payload: PayloadInputOf<T>): boolean {
    const transport = this.#transport;
    if (transport === null || !transport.isOpen) return false;
    if (this.#pacer === null) {
      this.#writeNow(transport, type, payload);
      if (type !== "SEQ_ACK") this.#flushAck();
      return true;
    }
    if (type === "SEQ_ACK" && this.#queuedAck !== null) {
      this.#queuedAck.payload = payload as object;
      return true;
    }
    const item: Outgoing = { type, payload: payload as object };
    if (type === "SEQ_ACK") this.#queuedAck = item;
    this.#pacer.push(item);
    this.#pump();
    if (type !== "SEQ_ACK") this.#flushAck();
    return true;
  }

  /** Writes a message at once, ahead of anything the pacer holds (a goodbye). */
  writeNow<T extends MessageType>(type: T, payload: PayloadInputOf<T>): void {
    const transport = this.#transport;
    if (transport !== null && transport.isOpen) this.#writeNow(transport, type, payload);
  }

  /**
   * Takes an incoming message: SEQ_ACK releases kept messages (`handled`); a reliable message is checked
   * against the inbox (`duplicate` when seen before) and acknowledged soon; everything else is `deliver`.
   */
  receive(message: Message): Receipt {
    if (message.type === "SEQ_ACK") {
      this.#outbox.acknowledge(message.payload.seq);
      return "handled";
    }
    if (!RELIABLE_TYPES.has(message.type)) return "deliver";
    const fresh = this.#inbox.accept((message.payload as { seq: number }).seq);
    this.#ackSoon();
    return fresh ? "deliver" : "duplicate";
  }

  /** After a resume: drops what the peer has (`peerLastSeq`) and writes the rest again, in order. */
  replayAfter(peerLastSeq: number): void {
    this.#heldFrom = null;
    for (const pending of this.#outbox.replayAfter(peerLastSeq)) {
      this.write(pending.type, pending.payload as never);
    }
  }

  /**
   * The peer refused a message over its rate limit: nothing is written until `retryAfterMs` passed; a
   * refused reliable message (`ref` = its seq) is then written again, followed by every reliable message
   * written after it (the peer discarded those), in order, ahead of what was still waiting.
   */
  refused(error: ProtocolError): void {
    const pacer = this.#pacer;
    if (pacer === null) return;
    const now = this.#options.timers.now();
    pacer.pauseUntil(now + (error.retryAfterMs ?? 1000));
    const seq = Number(error.ref);
    if (Number.isInteger(seq) && seq >= 1 && seq <= this.#writtenThrough) {
      const again = this.#outbox.replayAfter(seq - 1).filter((pending) =>
        pending.seq <= this.#writtenThrough
      );
      pacer.pushFront(again.map((pending) => ({ type: pending.type, payload: pending.payload })));
      this.#writtenThrough = seq - 1;
    }
    this.#schedulePump(now);
  }

  /** Stops every timer (the channel is done). */
  close(): void {
    this.detach();
  }

  #ackSoon(): void {
    if (this.#ackTimer !== undefined) return;
    this.#ackTimer = this.#options.timers.setTimeout(() => this.#flushAck(), this.#options.ackDelayMs);
  }

  #flushAck(): void {
    if (this.#ackTimer === undefined) return;
    this.#options.timers.clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
    this.write("SEQ_ACK", { seq: this.#inbox.lastSeq });
  }

  #pump(): void {
    const transport = this.#transport;
    const pacer = this.#pacer;
    if (transport === null || pacer === null || !transport.isOpen) return;
    const now = this.#options.timers.now();
    for (const item of pacer.take(now)) {
      if (item === this.#queuedAck) this.#queuedAck = null;
      if (RELIABLE_TYPES.has(item.type)) {
        this.#writtenThrough = Math.max(this.#writtenThrough, (item.payload as { seq: number }).seq);
      }
      this.#writeNow(transport, item.type, item.payload as never);
    }
    this.#schedulePump(now);
  }

  #schedulePump(nowMs: number): void {
    if (this.#pumpTimer !== undefined || this.#pacer === null) return;
    const waitMs = this.#pacer.waitMs(nowMs);
    if (waitMs === null) return;
    this.#pumpTimer = this.#options.timers.setTimeout(() => {
      this.#pumpTimer = undefined;
      this.#pump();
    }, waitMs);
  }

  #writeNow<T extends MessageType>(transport: Transport, type: T, payload: PayloadInputOf<T>): void {
    transport.send(encodeMessage(type, payload, this.#options.timers.now()));
  }

  /** A new transport (or none): nothing queued for the old one is written, no rate is known yet. */
  #resetWrites(): void {
    this.#options.timers.clearTimeout(this.#pumpTimer);
    this.#pumpTimer = undefined;
    this.#pacer?.clear();
    this.#pacer?.setRate(null, this.#options.timers.now());
    this.#queuedAck = null;
    this.#writtenThrough = 0;
  }
}
