/**
 * Paces a device's sends to the rate the server announced: a queue behind a token bucket. Nothing is
 * dropped; what cannot go now waits, in order, for its token. The bucket holds one second's worth of
 * messages (the server's holds two), so arrivals bunched by up to a second of network jitter still fit the
 * server's limit. Pure: time comes in as an argument; the shell writes what `take` returns and sets a
 * timer for `waitMs`.
 */
import { TokenBucket } from "./token_bucket.ts";

/** A queue of outgoing items released at a metered rate. */
export class SendPacer<T> {
  #bucket: TokenBucket | null = null;
  #queue: T[] = [];
  #head = 0;
  #pausedUntilMs = 0;
  #queuedBytes = 0;

  /** `sizeOf` gives an item's size in bytes, for `queuedBytes`. */
  constructor(readonly sizeOf: (item: T) => number = () => 0) {}

  /** Meters at `ratePerSecond` from now on with a full bucket; null sends everything at once. */
  setRate(ratePerSecond: number | null, nowMs: number): void {
    this.#bucket = ratePerSecond === null ? null : new TokenBucket(ratePerSecond, ratePerSecond, nowMs);
  }

  /** Queues an item behind everything already queued. */
  push(item: T): void {
    this.#queue.push(item);
    this.#queuedBytes += this.sizeOf(item);
  }

  /** Queues items ahead of everything already queued, in the order given. */
  pushFront(items: readonly T[]): void {
    this.#queue = [...items, ...this.#queue.slice(this.#head)];
    this.#head = 0;
    for (const item of items) this.#queuedBytes += this.sizeOf(item);
  }

  /** Holds every item until `untilMs` (a pause never shortens one already set). */
  pauseUntil(untilMs: number): void {
    this.#pausedUntilMs = Math.max(this.#pausedUntilMs, untilMs);
  }

  /** The items that may be written now, oldest first; each takes a token. */
  take(nowMs: number): T[] {
    if (nowMs < this.#pausedUntilMs) return [];
    const out: T[] = [];
    while (this.#head < this.#queue.length && (this.#bucket === null || this.#bucket.take(nowMs))) {
      const item = this.#queue[this.#head++];
      this.#queuedBytes -= this.sizeOf(item);
      out.push(item);
    }
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    return out;
  }

  /** Milliseconds until the next queued item may go (at least 1); null when nothing waits. */
  waitMs(nowMs: number): number | null {
    if (this.#head >= this.#queue.length) return null;
    const pausedMs = this.#pausedUntilMs - nowMs;
    const tokenMs = this.#bucket === null ? 0 : this.#bucket.msUntil(1, nowMs);
    return Math.max(1, pausedMs, tokenMs);
  }

  /** Items waiting. */
  get length(): number {
    return this.#queue.length - this.#head;
  }

  /** Bytes waiting, as `sizeOf` counts them. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** Forgets every waiting item and any pause (the socket they were meant for is gone). */
  clear(): void {
    this.#queue = [];
    this.#head = 0;
    this.#pausedUntilMs = 0;
    this.#queuedBytes = 0;
  }
}
