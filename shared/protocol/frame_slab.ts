/**
 * Where encoded frames live: carved one after another from 64 KiB slabs instead of one `new Uint8Array`
 * each, which costs ~0.3 µs a frame (a separate ArrayBuffer) against ~40 ns for a view of a slab. A slab
 * is never written twice: when it is full the next one is allocated and the old one is freed by the
 * garbage collector once no frame of it is referenced. So a frame stays valid for as long as anyone holds
 * it, whatever a transport does with it (Deno's and the browser's `WebSocket.send` copy the bytes before
 * returning; a transport that kept the view would still be safe). Frames larger than `MAX_CARVED_BYTES`
 * get a buffer of their own.
 */

/** Bytes in one slab. */
export const SLAB_BYTES = 64 * 1024;
/** Frames whose reserved room exceeds this get their own buffer. */
export const MAX_CARVED_BYTES = 8 * 1024;

/** A bump allocator of frames: `reserve` room, write from `offset` in `bytes`, then `take` the frame. */
export class FrameSlab {
  /** Where to write the frame being built. */
  bytes: Uint8Array;
  /** Offset in `bytes` where the frame being built starts. */
  offset = 0;
  #slab: Uint8Array;
  #used = 0;

  constructor(readonly slabBytes: number = SLAB_BYTES, readonly maxCarvedBytes: number = MAX_CARVED_BYTES) {
    this.#slab = new Uint8Array(slabBytes);
    this.bytes = this.#slab;
  }

  /** Makes room for a frame of at most `capacity` bytes at `bytes[offset]`. */
  reserve(capacity: number): void {
    if (capacity > this.maxCarvedBytes) {
      this.bytes = new Uint8Array(capacity);
      this.offset = 0;
      return;
    }
    if (this.#used + capacity > this.slabBytes) {
      this.#slab = new Uint8Array(this.slabBytes);
      this.#used = 0;
    }
    this.bytes = this.#slab;
    this.offset = this.#used;
  }

  /** The frame written since `reserve`, `byteLength` bytes long; the slab moves past it. */
  take(byteLength: number): Uint8Array {
    const start = this.offset;
    if (this.bytes === this.#slab) this.#used = start + byteLength;
    return this.bytes.subarray(start, start + byteLength);
  }
}
