/**
 * The one request-body reader of every route. The limit is in bytes: a declared `Content-Length` over it
 * is refused before anything is read; otherwise bytes are counted as they stream in (chunked bodies
 * included) and reading stops at the limit, so memory never holds more than the limit. Over the limit →
 * 413 `body-too-large`; not UTF-8 JSON → 400 `invalid-body`; failing the schema → 400 `invalid-body`
 * naming the field at fault.
 *
 * Hono's `hono/body-limit` also streams and counts bytes, but on overflow it leaves the body's reader
 * locked and unread, which on Deno 2.9 keeps a chunked upload's connection open with nobody reading it;
 * here the reader is cancelled, so the runtime discards the rest.
 */
import type { Context } from "hono";
import type { z } from "zod";
import { HttpError } from "./errors.ts";
import { firstIssue } from "../../shared/protocol/errors.ts";
import { concatBytes } from "../../shared/bytes.ts";

/** The limit of routes that do not name their own (1 MiB). */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;
/** The limit of DAG submissions and edits (16 MiB). */
export const DAG_BODY_LIMIT_BYTES = 16 * 1024 * 1024;

function tooLarge(maxBytes: number, detail: string): HttpError {
  return new HttpError("body-too-large", `Cannot read body: ${detail}, the limit is ${maxBytes} bytes`);
}

/** Reads a request body of at most `maxBytes` bytes. */
export async function readBodyBytes(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) {
    throw tooLarge(maxBytes, `Content-Length is ${declared}`);
  }
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let byteLength = 0;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      byteLength += value.byteLength;
      if (byteLength > maxBytes) {
        await reader.cancel("body too large").catch(() => {});
        throw tooLarge(maxBytes, `over ${maxBytes} bytes arrived`);
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  return chunks.length === 1 ? chunks[0] : concatBytes(chunks, byteLength);
}

/** Reads a JSON body of at most `maxBytes` UTF-8 bytes. */
export async function readJson(c: Context, maxBytes = DEFAULT_BODY_LIMIT_BYTES): Promise<unknown> {
  const bytes = await readBodyBytes(c.req.raw, maxBytes);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new HttpError("invalid-body", "Cannot parse body: it is not valid UTF-8");
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError("invalid-body", `Cannot parse body: ${(error as Error).message}`);
  }
}

/** Reads a JSON body of at most `maxBytes` bytes and validates it against `schema`. */
export async function readBody<S extends z.ZodType>(
  c: Context,
  schema: S,
  maxBytes = DEFAULT_BODY_LIMIT_BYTES,
): Promise<z.output<S>> {
  const parsed = schema.safeParse(await readJson(c, maxBytes));
  if (!parsed.success) {
    throw new HttpError("invalid-body", `Cannot accept body: ${firstIssue(parsed.error)}`);
  }
  return parsed.data;
}
