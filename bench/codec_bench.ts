/**
 * Codec throughput, one run: encode + decode (header, UTF-8, JSON, zod validation) per second for a few
 * typical messages, against JSON.stringify + JSON.parse of the same message object, and against
 * JSON.parse + zod safeParse of the payload text alone (to separate the cost of validation).
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
import { SAMPLE_PAYLOADS } from "../shared/protocol/vectors.ts";

const gc = (globalThis as { gc?: () => void }).gc;

/** Operations per second of `run`, after a warm-up, measured over about `budgetMs`. */
function rate(run: () => void, budgetMs = 700): number {
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
  asJson: unknown;
}

const cases: Case[] = [
  ...(["ACTION_CLICK", "RESULT", "PING"] as const).map((type) => ({
    label: type,
    type,
    payload: SAMPLE_PAYLOADS[type],
    asJson: { type, timestampMs: 1, payload: SAMPLE_PAYLOADS[type] },
  })),
  {
    label: "STREAM_FRAME 100 KiB",
    type: "STREAM_FRAME",
    payload: streamFrame,
    asJson: { type: "STREAM_FRAME", timestampMs: 1, payload: { meta: frameMeta, image: base64(image) } },
  },
];

const f = (n: number) => Number.isNaN(n) ? "–" : Math.round(n).toLocaleString("en-US");
const ratio = (a: number, b: number) => Number.isNaN(b) ? "–" : `${(a / b).toFixed(2)}×`;
const started = performance.now();

console.log("\n## Codec: messages/s, encode + decode, one run");
console.log("");
console.log(
  "| message | frame bytes | codec (+ zod) | JSON.stringify + JSON.parse | JSON.parse + zod | codec / JSON | codec / (parse + zod) |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
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
  const text = JSON.stringify(payload);
  const zod = schema === null ? NaN : rate(() => {
    if (!schema.safeParse(JSON.parse(text)).success) throw new Error("invalid");
  });
  console.log(
    `| ${label} | ${f(frameBytes)} | ${f(ours)} | ${f(json)}${binary ? " (image as base64)" : ""} | ${
      f(zod)
    } | ${ratio(ours, json)} | ${ratio(ours, zod)} |`,
  );
}
console.log("");
console.log(
  `codec = encodeMessage + decodeFrame (schema validation included; STREAM_FRAME also splits its metadata). ` +
    `${((performance.now() - started) / 1000).toFixed(1)} s.`,
);
