/**
 * Exactly-once, in-order delivery of reliable control messages across socket drops. Each side keeps
 * an outbox of sent-but-unacknowledged messages (replayed on resume) and an inbox high-water mark
 * (duplicates below it are dropped). Pure: no timers, no I/O.
 */
import type { MessageType, PayloadInputOf } from "./messages.ts";

/** A reliable message waiting for its acknowledgement. */
export interface PendingMessage {
  seq: number;
  type: MessageType;
  payload: { seq: number } & Record<string, unknown>;
}

/** The sending half: numbers messages and holds them until acknowledged. */
export class ReliableOutbox {
  #nextSeq = 1;
  #pending: PendingMessage[] = [];

  /** Numbers a payload and keeps it for replay; returns the payload with its `seq`. */
  stamp<T extends MessageType>(type: T, payload: Omit<PayloadInputOf<T>, "seq">): PayloadInputOf<T> {
    const seq = this.#nextSeq++;
    const stamped = { ...(payload as Record<string, unknown>), seq };
    this.#pending.push({ seq, type, payload: stamped });
    return stamped as unknown as PayloadInputOf<T>;
  }

  /** Drops every message up to and including `seq` (cumulative acknowledgement). */
  acknowledge(seq: number): void {
    let drop = 0;
    while (drop < this.#pending.length && this.#pending[drop].seq <= seq) drop++;
    if (drop > 0) this.#pending.splice(0, drop);
  }

  /** After a resume: acknowledges up to `peerLastSeq` and returns what must be sent again, in order. */
  replayAfter(peerLastSeq: number): readonly PendingMessage[] {
    this.acknowledge(peerLastSeq);
    return [...this.#pending];
  }

  /** Messages not yet acknowledged. */
  get pendingCount(): number {
    return this.#pending.length;
  }

  /** The seq the next message will carry. */
  get nextSeq(): number {
    return this.#nextSeq;
  }
}

/** The receiving half: accepts each seq once, in order. */
export class ReliableInbox {
  #lastSeq = 0;

  /** Returns true when `seq` is new and should be delivered; false for a duplicate. */
  accept(seq: number): boolean {
    if (seq <= this.#lastSeq) return false;
    this.#lastSeq = seq;
    return true;
  }

  /** Highest seq delivered so far; sent as SEQ_ACK and in CONNECT/ACK on resume. */
  get lastSeq(): number {
    return this.#lastSeq;
  }
}
