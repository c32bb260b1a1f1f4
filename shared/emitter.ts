/**
 * A small typed event emitter: managers report what happened as typed events, and listeners subscribe
 * per event name. A listener that throws does not stop the others; `onError` hears about it.
 */

/** Event names mapped to their listener's argument list. */
export type EventMap = Record<string, unknown[]>;

// deno-lint-ignore no-explicit-any
type Listener = (...args: any[]) => void;

/** Emits typed events to subscribed listeners. */
export class Emitter<E extends EventMap> {
  readonly #listeners = new Map<keyof E, Set<Listener>>();

  constructor(readonly onError: (error: unknown, event: keyof E) => void = () => {}) {}

  /** Subscribes to `event`; returns the unsubscribe function. */
  on<K extends keyof E>(event: K, listener: (...args: E[K]) => void): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) this.#listeners.set(event, set = new Set());
    set.add(listener as Listener);
    return () => void set.delete(listener as Listener);
  }

  /** Calls every listener of `event` with `args`, in subscription order. */
  emit<K extends keyof E>(event: K, ...args: E[K]): void {
    const set = this.#listeners.get(event);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        listener(...args);
      } catch (error) {
        this.onError(error, event);
      }
    }
  }
}
