/**
 * Flow control of one connection's incoming messages. A token bucket meters every decoded message
 * (`maxMessagesPerSecond` sustained, bursts of twice that). A reliable message over the limit is not
 * delivered: the sender gets ERROR `rate-limited` naming its seq in `ref` with `retryAfterMs`, and every
 * later reliable message is discarded until that seq arrives again (go-back-N), so the inbox never skips one
 * and the sender resends from it in order. An unreliable message over the limit is dropped with the same
 * ERROR (`ref` = its type). Refusals, and discards beyond the limit, are forgiven up to one second's worth
 * of messages per minute; past that each one counts as a protocol error (with an ERROR again naming the
 * seq to resend from), so a sender that ignores `retryAfterMs` is disconnected.
 * Pure: time comes in as an argument.
 */
import {
  type MessageType,
  type ProtocolError,
  protocolError,
  TokenBucket,
} from "../../shared/protocol/mod.ts";

/** What to do with a decoded message. */
export type Admission =
  | { action: "deliver" }
  /** A reliable message behind a refused one: the earlier ERROR already asked for it again. */
  | { action: "discard" }
  | { action: "refuse"; error: ProtocolError & { retryAfterMs: number }; counted: boolean };

/** Admission of one connection's messages. */
export class InboundFlow {
  readonly #bucket: TokenBucket;
  /**
   * Refusals forgiven (not counted as protocol errors): one second's worth, refilled over a minute. Made
   * at the first refusal (an untouched bucket is full whenever it is made; most connections never need it).
   */
  #forgivenBucket: TokenBucket | null = null;
  /** The refused reliable seq the sender must send again before any later one is taken. */
  #resendFrom: number | null = null;

  constructor(readonly ratePerSecond: number, nowMs: number) {
    this.#bucket = new TokenBucket(ratePerSecond, ratePerSecond * 2, nowMs);
  }

  #forgiven(nowMs: number): TokenBucket {
    return this.#forgivenBucket ??= new TokenBucket(this.ratePerSecond / 60, this.ratePerSecond, nowMs);
  }

  /** The seq a refused reliable message left outstanding, if any. */
  get resendFrom(): number | null {
    return this.#resendFrom;
  }

  /** Decides on a message of `type`; `seq` is given for reliable types only. */
  admit(type: MessageType, seq: number | undefined, nowMs: number): Admission {
    const withinLimit = this.#bucket.take(nowMs);
    if (seq !== undefined && this.#resendFrom !== null && seq > this.#resendFrom) {
      // Sent before the sender heard the ERROR, or by one that ignores it: a flood of these still counts.
      if (withinLimit || this.#forgiven(nowMs).take(nowMs)) return { action: "discard" };
      return { action: "refuse", error: this.#refusal(type, this.#resendFrom, nowMs), counted: true };
    }
    if (withinLimit) {
      if (seq !== undefined && seq === this.#resendFrom) this.#resendFrom = null;
      return { action: "deliver" };
    }
    if (seq !== undefined) this.#resendFrom ??= seq;
    return {
      action: "refuse",
      error: this.#refusal(type, seq, nowMs),
      counted: !this.#forgiven(nowMs).take(nowMs),
    };
  }

  #refusal(
    type: MessageType,
    seq: number | undefined,
    nowMs: number,
  ): ProtocolError & { retryAfterMs: number } {
    // One second's worth of tokens (half the burst) before the sender should try again.
    const retryAfterMs = Math.max(1, this.#bucket.msUntil(this.ratePerSecond, nowMs));
    const limit = `more than ${this.ratePerSecond} messages/s`;
    const error = seq === undefined
      ? protocolError("rate-limited", `${limit}; ${type} dropped, retry after ${retryAfterMs} ms`, type)
      : protocolError(
        "rate-limited",
        `${limit}; ${type} seq ${seq} not accepted, resend from it after ${retryAfterMs} ms`,
        String(seq),
      );
    return { ...error, retryAfterMs };
  }
}
