/** Byte arrays, in Deno and the browser alike. */

/** `parts` one after another in one new array; `byteLength` is their total when the caller knows it. */
export function concatBytes(
  parts: readonly Uint8Array[],
  byteLength: number = parts.reduce((sum, part) => sum + part.byteLength, 0),
): Uint8Array {
  const bytes = new Uint8Array(byteLength);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.byteLength;
  }
  return bytes;
}
