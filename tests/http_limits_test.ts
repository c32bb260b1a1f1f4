/**
 * Request bodies are limited in bytes before and while they are read: a declared Content-Length over the
 * limit is refused without reading, a chunked body is refused as soon as it passes the limit, and the
 * server goes on serving.
 */
import assert from "node:assert/strict";
import { RawHttp } from "./helpers/raw_http.ts";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { startServerProcess } from "./helpers/server_process.ts";

const live = { sanitizeResources: false, sanitizeOps: false };
const MiB = 1024 * 1024;
const SMALL_DAG = JSON.stringify({ name: "d", nodes: [{ id: "a", kind: "server", op: { sleepMs: 1 } }] });

/** A POST of a DAG's head with `extra` header lines; the body is the test's to send. */
function head(operatorToken: string, extra: string): string {
  return `POST /api/dags HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${operatorToken}\r\n` +
    `content-type: application/json\r\n${extra}\r\n`;
}

async function assertStillServing(server: TestServer): Promise<void> {
  assert.equal((await server.api("/healthz").then((r) => r.json())).status, "ok");
  const submitted = await server.api("/api/dags", { method: "POST", body: SMALL_DAG });
  assert.equal(submitted.status, 201, await submitted.clone().text());
  await submitted.body?.cancel();
}

function assertTooLarge(response: { status: number; body: string }): void {
  assert.equal(response.status, 413, response.body);
  assert.equal(JSON.parse(response.body).error.code, "body-too-large");
}

/**
 * On a fresh server and one raw connection, `send` writes a request the server must refuse with 413
 * body-too-large before `send` has written all of it; afterwards the server still serves.
 */
async function refusedEarly(send: (raw: RawHttp, server: TestServer) => Promise<void>): Promise<void> {
  const server = await startTestServer();
  const raw = await RawHttp.open(server.port);
  try {
    await send(raw, server);
    assertTooLarge(await raw.readResponse());
    raw.close();
    await assertStillServing(server);
  } finally {
    raw.close();
    await server.close();
  }
}

Deno.test(
  "a POST declaring 100 MB is refused with 413 body-too-large before any of its body is sent",
  live,
  () =>
    refusedEarly(async (raw, server) => {
      // Not one body byte goes out: an answer can only come from the declared length.
      await raw.write(head(server.operatorToken, `content-length: ${100 * MiB}\r\n`));
    }),
);

Deno.test(
  "a chunked POST is refused with 413 once it passes 16 MiB, while the rest of its 100 MB is still unsent",
  live,
  () =>
    refusedEarly(async (raw, server) => {
      await raw.write(head(server.operatorToken, "transfer-encoding: chunked\r\n"));
      const chunk = new Uint8Array(MiB).fill(0x20);
      // 17 of 100 MiB sent; the answer must come now, not after the other 83.
      for (let sent = 0; sent <= 16 * MiB; sent += MiB) await raw.writeChunk(chunk);
    }),
);

Deno.test(
  "a 100 MB chunked POST sent in full is refused with 413 and the server's memory does not grow by the body",
  live,
  async () => {
    const server = await startServerProcess();
    const raw = await RawHttp.open(server.port);
    try {
      const before = await server.rssBytes();
      await raw.write(head(server.operatorToken, "transfer-encoding: chunked\r\n"));
      const answer = raw.readResponse(60_000);
      const chunk = new Uint8Array(MiB).fill(0x20);
      try {
        for (let sent = 0; sent < 100 * MiB; sent += MiB) await raw.writeChunk(chunk);
        await raw.writeChunk(new Uint8Array(0));
      } catch {
        // The server may close the connection once it has answered; the answer is what counts.
      }
      assertTooLarge(await answer);
      const grownBytes = (await server.rssBytes()) - before;
      assert.ok(grownBytes < 50 * MiB, `the server grew by ${Math.round(grownBytes / MiB)} MiB`);
      raw.close();
      const health = await fetch(`${server.url}/healthz`);
      assert.equal((await health.json()).status, "ok");
    } finally {
      raw.close();
      await server.stop();
    }
  },
);

Deno.test("bodies are limited in UTF-8 bytes, not in characters", live, async (t) => {
  const server = await startTestServer();
  try {
    // 9.5 Mi two-byte characters: 19 MiB of UTF-8, though the string is only 9.5 Mi characters long.
    const dag = JSON.stringify({ name: "é".repeat(9.5 * MiB), nodes: [] });
    assert.ok(dag.length < 16 * MiB && new TextEncoder().encode(dag).length > 18 * MiB);
    await t.step("an 18 MiB UTF-8 DAG with Content-Length is refused with 413", async () => {
      const response = await server.api("/api/dags", { method: "POST", body: dag });
      assertTooLarge({ status: response.status, body: await response.text() });
    });
    await t.step("the same DAG sent chunked is refused with 413", async () => {
      const bytes = new TextEncoder().encode(dag);
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let offset = 0; offset < bytes.length; offset += MiB) {
            controller.enqueue(bytes.slice(offset, offset + MiB));
          }
          controller.close();
        },
      });
      const response = await server.api("/api/dags", { method: "POST", body, duplex: "half" } as RequestInit);
      assertTooLarge({ status: response.status, body: await response.text() });
    });
    await t.step("a 1.5 MiB UTF-8 key request over the 1 MiB limit is refused with 413", async () => {
      const name = "é".repeat(0.75 * MiB);
      const response = await server.api("/api/keys", {
        method: "POST",
        body: JSON.stringify({ scope: "operator", name }),
      });
      assertTooLarge({ status: response.status, body: await response.text() });
    });
    await t.step("a body that is not UTF-8 is refused with 400 invalid-body", async () => {
      const response = await server.api("/api/keys", {
        method: "POST",
        body: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
      });
      assert.equal(response.status, 400);
      assert.equal((await response.json()).error.code, "invalid-body");
    });
    await assertStillServing(server);
  } finally {
    await server.close();
  }
});
