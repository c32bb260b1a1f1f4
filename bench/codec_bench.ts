/** Codec throughput: encode+decode (with zod validation) vs JSON.stringify+JSON.parse of the same message, one run. */
import { decodeFrame, encodeMessage, type MessageType, MessageTypes } from "../shared/protocol/mod.ts";
import { encodeStreamFrame } from "../shared/protocol/binary_payloads.ts";
import { SAMPLE_PAYLOADS } from "../shared/protocol/vectors.ts";

function rate(run: () => void, iterations: number): number {
  for (let i = 0; i < Math.min(2000, iterations / 10); i++) run();
  const started = performance.now();
  for (let i = 0; i < iterations; i++) run();
  return iterations / ((performance.now() - started) / 1000);
}

const image = new Uint8Array(100 * 1024).map((_, i) => i & 0xff);
const frame = encodeStreamFrame({
  format: "jpeg",
  width: 640,
  height: 400,
  originalWidth: 1280,
  originalHeight: 800,
  capturedAtMs: 1,
}, image);
const cases: Array<[string, MessageType, unknown, number]> = [
  ["ACTION_CLICK", "ACTION_CLICK", SAMPLE_PAYLOADS.ACTION_CLICK, 200_000],
  ["RESULT", "RESULT", SAMPLE_PAYLOADS.RESULT, 200_000],
  ["PING", "PING", SAMPLE_PAYLOADS.PING, 300_000],
  ["STREAM_FRAME 100 KiB", "STREAM_FRAME", frame, 20_000],
];

console.log("\n## Codec: messages/s, encode + decode, one run");
console.log(
  "| message | ours (codec + zod) | JSON.stringify + JSON.parse | JSON.parse + zod only | ours / JSON |",
);
console.log("| --- | --- | --- | --- | --- |");
for (const [label, type, payload, iterations] of cases) {
  const ours = rate(() => {
    const decoded = decodeFrame(encodeMessage(type, payload as never, 1));
    if (!decoded.ok) throw new Error(decoded.error.message);
  }, iterations);
  const isBinary = payload instanceof Uint8Array;
  const message = isBinary
    ? {
      type,
      timestampMs: 1,
      payload: btoa(String.fromCharCode(...(payload as Uint8Array).subarray(0, 65536))),
    }
    : { type, timestampMs: 1, payload };
  const json = rate(() => JSON.parse(JSON.stringify(message)), iterations);
  const schema = MessageTypes[type].schema;
  const text = JSON.stringify(payload);
  const zod = schema === null ? NaN : rate(() => schema.safeParse(JSON.parse(text)), iterations);
  const f = (n: number) => Number.isNaN(n) ? "-" : Math.round(n).toLocaleString("en-US");
  console.log(
    `| ${label} | ${f(ours)} | ${f(json)}${isBinary ? " (64 KiB as base64)" : ""} | ${f(zod)} | ${
      (ours / json).toFixed(2)
    }x |`,
  );
}
