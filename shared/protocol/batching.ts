/**
 * One write per turn per socket (protocol version 2): the frames a side writes in one turn of the event
 * loop go out as one WebSocket message, the frames back to back, instead of one message (and one write,
 * and often one TCP segment) each. A node of a DAG costs a handful of small frames each way (the work,
 * its acknowledgement, the answer); sent apart, each is a write syscall and a message event at the peer,
 * and two small writes in a row can wait on Nagle's algorithm and the peer's delayed ACK (~40 ms).
 *
 * `BatchingTransport` wraps a transport: `send` queues the frame and the queue is written at the end of
 * the turn (a microtask); `close` writes it first. Frames the slab carved one after another are already
 * adjacent in memory and go out as one view, without a copy. A message never exceeds `maxBatchBytes` (the
 * peer's frame limit applies to the whole message); a frame that large goes alone.
 */
import { concatBytes } from "../bytes.ts";
import type { CloseInfo, Incoming, Transport, TransportSink } from "../transport/transport.ts";

/** Largest message a batch makes by default. */
export const DEFAULT_MAX_BATCH_BYTES = 64 * 1024;

/** Transports with frames waiting, flushed together at the end of the turn (one microtask for all). */
let waiting: BatchingTransport[] = [];

function flushWaiting(): void {
  const batch = waiting;
  waiting = [];
  for (const transport of batch) transport.flush();
}

/** A transport whose frames written in one turn leave as one message. */
export class BatchingTransport implements Transport {
  /** Frames queued this turn; made at the first (an idle socket holds no array). */
  #pending: Uint8Array[] | null = null;
  #pendingBytes = 0;
  /** Told of each message written, with the frames in it (wire counts for benches). */
  onWrite: ((frames: number) => void) | null = null;

  /** `maxBatchBytes`: at most this many bytes a message (it may be lowered, e.g. to the peer's limit). */
  constructor(readonly inner: Transport, public maxBatchBytes: number = DEFAULT_MAX_BATCH_BYTES) {}

  send(bytes: Uint8Array): void {
    if (this.#pendingBytes + bytes.byteLength > this.maxBatchBytes) this.flush();
    if (bytes.byteLength >= this.maxBatchBytes) {
      this.onWrite?.(1);
      return this.inner.send(bytes);
    }
    if (this.#pending === null) {
      this.#pending = [];
      if (waiting.length === 0) queueMicrotask(flushWaiting);
      waiting.push(this);
    }
    this.#pending.push(bytes);
    this.#pendingBytes += bytes.byteLength;
  }

  /** Writes what is queued now, as one message. */
  flush(): void {
    const pending = this.#pending;
    if (pending === null) return;
    const bytes = this.#pendingBytes;
    this.#pending = null;
    this.#pendingBytes = 0;
    this.onWrite?.(pending.length);
    this.inner.send(pending.length === 1 ? pending[0] : join(pending, bytes));
  }

  close(code?: number, reason?: string): void {
    this.flush();
    this.inner.close(code, reason);
  }

  get closed(): Promise<CloseInfo> {
    return this.inner.closed;
  }

  get bufferedAmount(): number {
    return this.inner.bufferedAmount + this.#pendingBytes;
  }

  get isOpen(): boolean {
    return this.inner.isOpen;
  }

  get listen(): ((sink: TransportSink) => void) | undefined {
    const inner = this.inner;
    return inner.listen === undefined ? undefined : (sink) => inner.listen!(sink);
  }

  [Symbol.asyncIterator](): AsyncIterator<Incoming> {
    return this.inner[Symbol.asyncIterator]();
  }
}

/** The frames as one message: a view when they lie one after another in one buffer, else a copy. */
function join(frames: Uint8Array[], byteLength: number): Uint8Array {
  const first = frames[0];
  let adjacent = true;
  for (let i = 1; i < frames.length && adjacent; i++) {
    const previous = frames[i - 1];
    adjacent = frames[i].buffer === first.buffer &&
      frames[i].byteOffset === previous.byteOffset + previous.byteLength;
  }
  return adjacent
    ? new Uint8Array(first.buffer, first.byteOffset, byteLength)
    : concatBytes(frames, byteLength);
}
