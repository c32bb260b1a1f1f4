import assert from "node:assert/strict";
import { readBodyBytes } from "./body.ts";
import { HttpError } from "./errors.ts";

/** A request whose body is produced chunk by chunk, recording how many chunks were pulled and whether it was cancelled. */
function streamedRequest(chunks: Uint8Array[], headers: Record<string, string> = {}) {
  const seen = { pulled: 0, cancelled: false };
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (seen.pulled === chunks.length) return controller.close();
      controller.enqueue(chunks[seen.pulled++]);
    },
    cancel() {
      seen.cancelled = true;
    },
  }, { highWaterMark: 0 });
  const request = new Request("http://x/", { method: "POST", body, headers, duplex: "half" } as RequestInit);
  return { request, seen };
}

async function refusal(promise: Promise<unknown>): Promise<HttpError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof HttpError, String(error));
    return error;
  }
  throw new Error("the body was accepted");
}

Deno.test("readBodyBytes() refuses a declared Content-Length over the limit without pulling any of the body", async () => {
  const { request, seen } = streamedRequest([new Uint8Array(10)], { "content-length": "101" });
  const error = await refusal(readBodyBytes(request, 100));
  assert.equal(error.status, 413);
  assert.equal(error.code, "body-too-large");
  assert.match(error.message, /^Cannot read body: Content-Length is 101, the limit is 100 bytes$/);
  assert.equal(seen.pulled, 0);
});

Deno.test("readBodyBytes() stops at the first chunk past the limit and cancels the rest of the stream", async () => {
  const chunks = Array.from({ length: 100 }, () => new Uint8Array(40));
  const { request, seen } = streamedRequest(chunks);
  const error = await refusal(readBodyBytes(request, 100));
  assert.equal(error.status, 413);
  assert.equal(error.code, "body-too-large");
  assert.equal(seen.pulled, 3, "100 bytes are passed on the third 40-byte chunk");
  assert.equal(seen.cancelled, true);
});

Deno.test("readBodyBytes() counts UTF-8 bytes, not characters", async () => {
  const text = "é".repeat(60); // 60 characters, 120 bytes
  const refused = await refusal(
    readBodyBytes(streamedRequest([new TextEncoder().encode(text)]).request, 100),
  );
  assert.equal(refused.code, "body-too-large");
  const accepted = await readBodyBytes(streamedRequest([new TextEncoder().encode(text)]).request, 120);
  assert.equal(new TextDecoder().decode(accepted), text);
});

Deno.test("readBodyBytes() joins the chunks of a body at or under the limit", async () => {
  const chunks = [new Uint8Array([1, 2]), new Uint8Array([3]), new Uint8Array([4, 5])];
  assert.deepEqual(await readBodyBytes(streamedRequest(chunks).request, 5), new Uint8Array([1, 2, 3, 4, 5]));
  assert.deepEqual(await readBodyBytes(new Request("http://x/", { method: "POST" }), 5), new Uint8Array(0));
});
