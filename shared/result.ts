/** The outcome of an operation that can fail without throwing. */
export type Result<T, E> = { ok: true; value: T } | { ok: false; error: E };

/** Wraps a successful value. */
export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

/** Wraps a failure. */
export function err<E>(error: E): { ok: false; error: E } {
  return { ok: false, error };
}
