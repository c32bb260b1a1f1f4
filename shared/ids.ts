/** Ids, injected: the shell takes an `IdSource` so tests see predictable ids. */

/** Returns a fresh unique id each call. */
export type IdSource = () => string;

/** Random UUIDs (the default outside tests). */
export const randomIds: IdSource = () => crypto.randomUUID();

/** `prefix-1`, `prefix-2`, … — predictable ids for tests. */
export function sequentialIds(prefix = "id"): IdSource {
  let next = 1;
  return () => `${prefix}-${next++}`;
}
