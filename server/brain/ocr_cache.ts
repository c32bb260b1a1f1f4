/**
 * Screen text read once per distinct frame: an `OcrEngine` in front of another that remembers the last few
 * frames' text by their bytes. An agent's screen often does not change between two steps (or a `waitFor`
 * polls a still screen), and a read costs ~300 ms of a core; a SHA-256 of the image costs well under one.
 * Two reads of the same frame at once share one engine read, which is cancelled only when every caller
 * has given up.
 */
import { createHash } from "node:crypto";
import type { Frame, OcrEngine, ScreenText } from "./types.ts";

interface Entry {
  key: string;
  /** The shared read; settles once. */
  text: Promise<ScreenText>;
  /** Callers waiting on it; the read is aborted when this drops to 0 before it settles. */
  waiting: number;
  abort: AbortController;
  settled: boolean;
}

/** An OCR engine that reuses the text of frames it has read recently. */
export class CachedOcr implements OcrEngine {
  readonly name: string;
  readonly #engine: OcrEngine;
  readonly #capacity: number;
  /** By frame key, oldest first (a Map keeps insertion order). */
  readonly #entries = new Map<string, Entry>();
  #hits = 0;
  #misses = 0;

  /** `capacity`: frames remembered (default 16: a few per device for a handful of busy devices). */
  constructor(engine: OcrEngine, capacity = 16) {
    this.#engine = engine;
    this.name = engine.name;
    this.#capacity = Math.max(1, capacity);
  }

  /** Reads served from memory and reads that went to the engine. */
  get stats(): { hits: number; misses: number } {
    return { hits: this.#hits, misses: this.#misses };
  }

  async read(frame: Frame, options: { signal?: AbortSignal } = {}): Promise<ScreenText> {
    options.signal?.throwIfAborted();
    const key = frameKey(frame);
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      this.#misses++;
      entry = this.#start(key, frame);
    } else {
      this.#hits++;
      this.#entries.delete(key);
      this.#entries.set(key, entry);
    }
    const wasSettled = entry.settled;
    const text = await this.#wait(entry, options.signal);
    return wasSettled ? { ...text, ms: 0, cached: true } : text;
  }

  #start(key: string, frame: Frame): Entry {
    const abort = new AbortController();
    const entry: Entry = { key, text: Promise.resolve(null as never), waiting: 0, abort, settled: false };
    entry.text = this.#engine.read(frame, { signal: abort.signal }).then(
      (text) => {
        entry.settled = true;
        return text;
      },
      (error) => {
        // A failed or cancelled read is not remembered: the next caller tries again.
        if (this.#entries.get(key) === entry) this.#entries.delete(key);
        throw error;
      },
    );
    // Callers that gave up no longer await the read; its failure is theirs, not an unhandled one.
    entry.text.catch(() => {});
    this.#entries.set(key, entry);
    while (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
    return entry;
  }

  async #wait(entry: Entry, signal: AbortSignal | undefined): Promise<ScreenText> {
    if (entry.settled) return await entry.text;
    entry.waiting++;
    let onAbort = () => {};
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal?.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
    try {
      return await Promise.race([entry.text, aborted]);
    } finally {
      signal?.removeEventListener("abort", onAbort);
      entry.waiting--;
      if (entry.waiting === 0 && !entry.settled && signal?.aborted) {
        // Nobody wants this read any more: stop it and let the next caller start afresh.
        if (this.#entries.get(entry.key) === entry) this.#entries.delete(entry.key);
        entry.abort.abort(signal.reason);
      }
    }
  }
}

/** The frame's identity: the image bytes and the screen size its boxes map to. */
function frameKey(frame: Frame): string {
  const hex = createHash("sha256").update(frame.image).digest("hex");
  return `${frame.originalWidth}x${frame.originalHeight}:${hex}`;
}
