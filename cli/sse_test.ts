import assert from "node:assert/strict";
import { readSse, SseParser } from "./sse.ts";

const STREAM = ': connected\nretry: 1000\n\nid: 7\nevent: step\ndata: {"a":1}\n\n' +
  "id: 8\r\nevent: transition\r\ndata: line one\r\ndata: line two\r\n\r\n: keep-alive\n\n";

Deno.test("SseParser reads ids, event names, multi-line data and comments", () => {
  const items = new SseParser().push(STREAM);
  assert.deepEqual(items, [
    { kind: "comment", text: "connected" },
    { kind: "event", id: "7", event: "step", data: '{"a":1}' },
    { kind: "event", id: "8", event: "transition", data: "line one\nline two" },
    { kind: "comment", text: "keep-alive" },
  ]);
});

Deno.test("SseParser gives the same events when the text arrives one character at a time", () => {
  const parser = new SseParser();
  const items = [...STREAM].flatMap((char) => parser.push(char));
  assert.deepEqual(items, new SseParser().push(STREAM));
});

Deno.test("SseParser holds an event until its blank line arrives, and names an unnamed one message", () => {
  const parser = new SseParser();
  assert.deepEqual(parser.push("data: x\n"), []);
  assert.deepEqual(parser.push("\n"), [{ kind: "event", id: null, event: "message", data: "x" }]);
});

Deno.test("readSse() yields the events of a byte stream split mid-character", async () => {
  const bytes = new TextEncoder().encode('event: device\ndata: {"name":"Zoë"}\n\n');
  const cut = bytes.indexOf(0xc3) + 1;
  const body = new ReadableStream<Uint8Array<ArrayBuffer>>({
    start(controller) {
      controller.enqueue(bytes.slice(0, cut));
      controller.enqueue(bytes.slice(cut));
      controller.close();
    },
  });
  const items = [];
  for await (const item of readSse(body)) items.push(item);
  assert.deepEqual(items, [{ kind: "event", id: null, event: "device", data: '{"name":"Zoë"}' }]);
});
