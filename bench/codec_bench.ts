/**
 * Codec throughput, one run. Every column does a whole round: encode and decode of the same message.
 *
 * - codec: `encodeMessage` + `decodeFrame` — header, payload (packed, JSON or binary), validation (the
 *   precompiled check or the zod schema; packed payloads by their own checks).
 * - JSON: `JSON.stringify` + `JSON.parse` of `{type, timestampMs, payload}`, no validation (for
 *   STREAM_FRAME the image as base64).
 * - JSON + zod: the same, plus the payload's zod `safeParse` — what a JSON protocol with validation costs.
 *
 * A second table measures the pieces the codec is made of against the obvious way of doing each, so each
 * step's effect shows on its own. Goals (issue 14): codec/JSON ≥ 3× for the hot packed messages, and
 * codec/(JSON + zod) ≥ 1× for JSON ones.
 * Run: deno run --allow-all --v8-flags=--expose-gc bench/codec_bench.ts
 */
import {
  decodeFrame,
  decodeStreamFrame,
  encodeMessage,
  encodeStreamFrame,
  type MessageType,
  MessageTypes,
} from "../shared/protocol/mod.ts";
import { FrameSlab } from "../shared/protocol/frame_slab.ts";
import { readU32, readU64, writeHeaderAt } from "../shared/protocol/header.ts";
import { JSON_CHECKS } from "../shared/protocol/json_checks.ts";
import { readUtf8, writeUtf8 } from "../shared/protocol/utf8.ts";
import { SAMPLE_PAYLOADS } from "../shared/protocol/vectors.ts";

const gc = (globalThis as { gc?: () => void }).gc;

/** Operations per second of `run`, after a warm-up, measured over about `budgetMs`. */
function rate(run: () => void, budgetMs = 600): number {
  const warmUntil = performance.now() + budgetMs / 4;
  while (performance.now() < warmUntil) run();
  gc?.();
  let iterations = 0;
  const started = performance.now();
  let elapsed = 0;
  do {
    for (let i = 0; i < 100; i++) run();
    iterations += 100;
    elapsed = performance.now() - started;
  } while (elapsed < budgetMs);
  return iterations / (elapsed / 1000);
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

const image = new Uint8Array(100 * 1024).map((_, i) => (i * 2654435761) >>> 24);
const frameMeta = {
  format: "jpeg" as const,
  width: 640,
  height: 400,
  originalWidth: 1280,
  originalHeight: 800,
  capturedAtMs: 1700000000000,
};
const streamFrame = encodeStreamFrame(frameMeta, image);

interface Case {
  label: string;
  type: MessageType;
  payload: unknown;
  /** The same message as a plain JSON object (binary content as base64). */
  asJson: { type: string; timestampMs: number; payload: unknown };
}

const messageCase = (type: MessageType): Case => ({
  label: `${type} (${MessageTypes[type].payload})`,
  type,
  payload: SAMPLE_PAYLOADS[type],
  asJson: { type, timestampMs: 1, payload: SAMPLE_PAYLOADS[type] },
});

const cases: Case[] = [
  ...(["PING", "PONG", "SEQ_ACK", "ACTION_CLICK", "ACTION_MOVE", "TASK_ACCEPTED"] as const).map(messageCase),
  ...(["RESULT", "EXECUTE_TASK", "ACTION_TYPE", "ERROR"] as const).map(messageCase),
  {
    label: "STREAM_FRAME 100 KiB (binary)",
    type: "STREAM_FRAME",
    payload: streamFrame,
    asJson: { type: "STREAM_FRAME", timestampMs: 1, payload: { meta: frameMeta, image: base64(image) } },
  },
];

const f = (n: number) => Number.isNaN(n) ? "–" : Math.round(n).toLocaleString("en-US");
const ratio = (a: number, b: number) => Number.isNaN(b) ? "–" : `${(a / b).toFixed(2)}×`;
const ns = (perSecond: number) => `${(1e9 / perSecond).toFixed(0)} ns`;
const started = performance.now();

// ---- the pieces, first: measured before the whole codec warms the JIT with other shapes ----

const clickText = JSON.stringify(SAMPLE_PAYLOADS.ACTION_CLICK);
const clickBytes = new TextEncoder().encode(clickText);
const fatal = new TextDecoder("utf-8", { fatal: true });
const loose = new TextDecoder("utf-8");
const encoder = new TextEncoder();
const scratch = new Uint8Array(1024);
const slab = new FrameSlab();
const resultJson = JSON.parse(JSON.stringify(SAMPLE_PAYLOADS.RESULT));
const executeJson = JSON.parse(JSON.stringify(SAMPLE_PAYLOADS.EXECUTE_TASK));
let sink: unknown;

interface Piece {
  what: string;
  before: [string, () => void];
  after: [string, () => void];
}

const pieces: Piece[] = [
  {
    what: "a frame's buffer (98 bytes)",
    before: ["new Uint8Array(98)", () => sink = new Uint8Array(98)],
    after: ["carved from a slab", () => {
      slab.reserve(98);
      sink = slab.take(98);
    }],
  },
  {
    what: "header write + read",
    before: ["DataView + BigInt", () => {
      const view = new DataView(scratch.buffer, 0, 13);
      view.setUint8(0, 0x21);
      view.setUint32(1, 85, false);
      view.setBigUint64(5, BigInt(1700000000000), false);
      const read = new DataView(scratch.buffer, 0, 13);
      sink = Number(read.getBigUint64(5, false)) + read.getUint32(1, false) + read.getUint8(0);
    }],
    after: ["bytes one by one", () => {
      writeHeaderAt(scratch, 0, 0x21, 85, 1700000000000);
      sink = readU64(scratch, 5) + readU32(scratch, 1) + scratch[0];
    }],
  },
  {
    what: "UTF-8 encode, 72 ASCII chars",
    before: ["TextEncoder.encodeInto", () => sink = encoder.encodeInto(clickText, scratch)],
    after: ["ASCII loop (encodeInto otherwise)", () => sink = writeUtf8(scratch, 0, clickText)],
  },
  {
    what: "UTF-8 decode, 72 ASCII bytes",
    before: ["fatal TextDecoder", () => sink = fatal.decode(clickBytes)],
    after: ["non-fatal, fatal again only on U+FFFD", () => sink = readUtf8(clickBytes, 0, clickBytes.length)],
  },
  {
    what: "UTF-8 decode, 72 ASCII bytes (runtime only)",
    before: ["fatal TextDecoder", () => sink = fatal.decode(clickBytes)],
    after: ["non-fatal TextDecoder", () => sink = loose.decode(clickBytes)],
  },
  {
    what: "validate RESULT",
    before: ["zod safeParse", () => sink = MessageTypes.RESULT.schema.safeParse(resultJson)],
    after: ["precompiled check", () => sink = JSON_CHECKS.RESULT!(resultJson)],
  },
  {
    what: "validate EXECUTE_TASK",
    before: ["zod safeParse", () => sink = MessageTypes.EXECUTE_TASK.schema.safeParse(executeJson)],
    after: ["precompiled check", () => sink = JSON_CHECKS.EXECUTE_TASK!(executeJson)],
  },
  {
    what: "ACTION_CLICK payload round trip",
    before: ["JSON text + zod", () => {
      const text = JSON.stringify(SAMPLE_PAYLOADS.ACTION_CLICK);
      sink = MessageTypes.ACTION_CLICK.schema.safeParse(JSON.parse(text));
    }],
    after: ["packed (encodeMessage + decodeFrame)", () => {
      sink = decodeFrame(encodeMessage("ACTION_CLICK", SAMPLE_PAYLOADS.ACTION_CLICK, 1));
    }],
  },
];

console.log("\n## Codec pieces: time per operation, the usual way against the codec's, one run");
console.log("");
console.log("| piece | usual way | time | codec's way | time | speed-up |");
console.log("| --- | --- | ---: | --- | ---: | ---: |");
for (const { what, before, after } of pieces) {
  const slow = rate(before[1], 300);
  const fast = rate(after[1], 300);
  console.log(`| ${what} | ${before[0]} | ${ns(slow)} | ${after[0]} | ${ns(fast)} | ${ratio(fast, slow)} |`);
}
void sink;
console.log("");
console.log("\n## Codec: messages/s, encode + decode in every column, one run");
console.log("");
console.log(
  "| message | frame bytes | codec | JSON | JSON + zod | JSON bytes + zod | codec / JSON | codec / (JSON + zod) | codec / (JSON bytes + zod) |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
const textDecoder = new TextDecoder();
for (const { label, type, payload, asJson } of cases) {
  const binary = payload instanceof Uint8Array;
  const frameBytes = encodeMessage(type, payload as never, 1).byteLength;
  const ours = rate(() => {
    const decoded = decodeFrame(encodeMessage(type, payload as never, 1));
    if (!decoded.ok) throw new Error(decoded.error.message);
    if (decoded.value.type === "STREAM_FRAME" && !decodeStreamFrame(decoded.value.payload).ok) {
      throw new Error("bad frame");
    }
  });
  const json = rate(() => JSON.parse(JSON.stringify(asJson)));
  const schema = binary ? null : MessageTypes[type].schema;
  const zod = schema === null ? NaN : rate(() => {
    const message = JSON.parse(JSON.stringify(asJson));
    if (!schema.safeParse(message.payload).success) throw new Error("invalid");
  });
  const wire = schema === null ? NaN : rate(() => {
    const message = JSON.parse(textDecoder.decode(encoder.encode(JSON.stringify(asJson))));
    if (!schema.safeParse(message.payload).success) throw new Error("invalid");
  });
  console.log(
    `| ${label} | ${f(frameBytes)} | ${f(ours)} | ${f(json)} | ${f(zod)} | ${f(wire)} | ${
      ratio(ours, json)
    } | ${ratio(ours, zod)} | ${ratio(ours, wire)} |`,
  );
}
console.log("");
console.log(
  "codec = encodeMessage + decodeFrame (packed payloads checked by the packed decoder, JSON ones by a " +
    "precompiled check (RESULT, EXECUTE_TASK, ERROR, ACTION_TYPE) or zod; STREAM_FRAME also splits its metadata). " +
    "JSON = JSON.stringify + JSON.parse of {type, timestampMs, payload} (image as base64), no validation. " +
    "JSON + zod = the same plus zod safeParse of the payload. JSON bytes + zod = what a JSON text frame " +
    "costs its peers: the text encoded to UTF-8 and decoded back (as a WebSocket text message is), plus zod.",
);

console.log("");
console.log(`${((performance.now() - started) / 1000).toFixed(1)} s.`);
