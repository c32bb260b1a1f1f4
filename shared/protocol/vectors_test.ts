import assert from "node:assert/strict";
import { parseConfig } from "../../server/config.ts";
import { CloseCodes } from "./close_codes.ts";
import { decodeFrame, encodeMessage } from "./codec.ts";
import { ErrorCodes } from "./errors.ts";
import {
  type MessageType,
  MessageTypes,
  MIN_PROTOCOL_VERSION,
  PROTOCOL_VERSION,
  RELIABLE_TYPES,
} from "./messages.ts";
import { PACKED_LAYOUTS } from "./packed.ts";
import { fromHex, GOLDEN_HEX, SAMPLE_PAYLOADS, toHex, VECTOR_TIMESTAMP_MS, VECTOR_TYPES } from "./vectors.ts";

const protocolMd = await Deno.readTextFile(new URL("../../PROTOCOL.md", import.meta.url));
const TYPES = Object.keys(MessageTypes) as MessageType[];

/** The markdown between a heading line and the next heading of the same or a higher level. */
function section(heading: string): string {
  const level = heading.match(/^#+/)![0].length;
  const start = protocolMd.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `PROTOCOL.md has a section "${heading}"`);
  const rest = protocolMd.slice(start + heading.length + 2);
  const end = rest.search(new RegExp(`\\n#{1,${level}} `));
  return end < 0 ? rest : rest.slice(0, end);
}

/** Table rows (cells trimmed, header and separator skipped) of every table in `markdown`. */
function rows(markdown: string): string[][] {
  return markdown.split("\n")
    .filter((line) => line.startsWith("|") && !/^\|[\s:-]+\|/.test(line))
    .map((line) => line.slice(1, -1).split(/(?<!\\)\|/).map((cell) => cell.trim()))
    .slice(1);
}

function directionText(direction: string): string {
  return direction === "both"
    ? "both"
    : direction === "device-to-server"
    ? "device → server"
    : "server → device";
}

Deno.test("SAMPLE_PAYLOADS has a sample for every message type and no other", () => {
  assert.deepEqual(Object.keys(SAMPLE_PAYLOADS).sort(), [...TYPES].sort());
  const missing = TYPES.filter((type) => SAMPLE_PAYLOADS[type] === undefined);
  assert.deepEqual(missing, [], "types without a sample");
});

Deno.test("every sample is valid for its schema and round-trips through the codec", () => {
  for (const type of TYPES) {
    const payload = SAMPLE_PAYLOADS[type];
    const decoded = decodeFrame(encodeMessage(type, payload as never, 123));
    assert.ok(decoded.ok, `${type}: ${!decoded.ok && decoded.error.message}`);
    assert.equal(decoded.value.type, type);
    assert.equal(decoded.value.timestampMs, 123);
    if (payload instanceof Uint8Array) assert.deepEqual(decoded.value.payload, payload);
    else assert.deepEqual(decoded.value.payload, { ...(decoded.value.payload as object), ...payload });
  }
});

Deno.test("there are golden vectors for at least 8 types, including the handshake, an action and both binaries", () => {
  assert.ok(VECTOR_TYPES.length >= 8);
  for (
    const type of ["CONNECT", "ACK", "READY", "PING", "PONG", "ACTION_CLICK", "RESULT", "ERROR"] as const
  ) {
    assert.ok((VECTOR_TYPES as readonly string[]).includes(type), type);
  }
  assert.ok(VECTOR_TYPES.includes("STREAM_FRAME") && VECTOR_TYPES.includes("ARTIFACT_CHUNK"));
  for (const type of Object.keys(PACKED_LAYOUTS)) {
    assert.ok((VECTOR_TYPES as readonly string[]).includes(type), `packed ${type} has a vector`);
  }
  assert.deepEqual(Object.keys(GOLDEN_HEX), [...VECTOR_TYPES]);
});

Deno.test("the codec encodes each vector's sample to its golden hex byte for byte", () => {
  for (const type of VECTOR_TYPES) {
    const frame = encodeMessage(type, SAMPLE_PAYLOADS[type] as never, VECTOR_TIMESTAMP_MS);
    assert.equal(toHex(frame), GOLDEN_HEX[type].join("\n"), type);
  }
});

Deno.test("each golden frame decodes to its type, timestamp and sample payload", () => {
  for (const type of VECTOR_TYPES) {
    const decoded = decodeFrame(fromHex(GOLDEN_HEX[type].join("")));
    assert.ok(decoded.ok, type);
    assert.equal(decoded.value.type, type);
    assert.equal(decoded.value.timestampMs, VECTOR_TIMESTAMP_MS);
    const sample = SAMPLE_PAYLOADS[type];
    if (sample instanceof Uint8Array) assert.deepEqual(decoded.value.payload, sample);
    else assert.deepEqual(decoded.value.payload, { ...(decoded.value.payload as object), ...sample });
  }
});

Deno.test("PROTOCOL.md's hex vectors equal the golden frames byte for byte, in order", () => {
  const blocks = [...protocolMd.matchAll(/### Vector: ([A-Z_]+)\n([\s\S]*?)```hex\n([0-9a-f\n]+)```/g)];
  assert.deepEqual(blocks.map((b) => b[1]), [...VECTOR_TYPES], "a vector for each listed type, in order");
  for (const [, name, prose, hex] of blocks) {
    const type = name as (typeof VECTOR_TYPES)[number];
    assert.equal(hex.trim(), GOLDEN_HEX[type].join("\n"), `vector ${type}`);
    const bytes = fromHex(hex);
    assert.deepEqual(bytes, encodeMessage(type, SAMPLE_PAYLOADS[type] as never, VECTOR_TIMESTAMP_MS));
    const sample = SAMPLE_PAYLOADS[type];
    if (!(sample instanceof Uint8Array)) {
      assert.ok(prose.includes("`" + JSON.stringify(sample) + "`"), `vector ${type} shows its payload`);
    }
  }
});

Deno.test("PROTOCOL.md's message table lists every type with its code, direction, payload kind and reliability", () => {
  const table = rows(section("## Message types"));
  assert.deepEqual(table.map((row) => row[1]), TYPES, "one row per type, in code order");
  for (const [code, name, direction, payload, reliable] of table) {
    const spec = MessageTypes[name as MessageType];
    assert.equal(code, "`0x" + spec.code.toString(16).padStart(2, "0") + "`", name);
    assert.equal(direction, directionText(spec.direction), name);
    assert.equal(payload, spec.payload, name);
    assert.equal(reliable, RELIABLE_TYPES.has(name as MessageType) ? "yes" : "no", name);
  }
});

Deno.test("PROTOCOL.md lists each JSON payload's fields and whether they are required, as the schemas do", () => {
  const payloads = section("## Payloads");
  for (const type of TYPES) {
    const schema = MessageTypes[type].schema;
    if (schema === null) continue;
    const table = rows(section(`#### ${type}`)).filter((row) => !row[0].includes("."));
    const documented = table.map((row) => row[0].replace(/`/g, ""));
    const shape =
      (schema as unknown as { shape: Record<string, { safeParse(v: unknown): { success: boolean } }> })
        .shape;
    assert.deepEqual([...documented].sort(), Object.keys(shape).sort(), `${type} fields`);
    for (const [field, , required] of table) {
      const name = field.replace(/`/g, "");
      const optional = shape[name].safeParse(undefined).success;
      assert.equal(required.startsWith("no"), optional, `${type}.${name} required column "${required}"`);
    }
    assert.ok(payloads.includes(`#### ${type}\n`));
  }
});

Deno.test("PROTOCOL.md's error table lists every error code with its number, HTTP status, retryable and message", () => {
  const table = rows(section("## Errors"));
  const documented = new Map(table.filter((row) => /^`[a-z-]+`$/.test(row[0])).map((row) => [row[0], row]));
  for (const [code, { number, httpStatus, retryable, message }] of Object.entries(ErrorCodes)) {
    const row = documented.get("`" + code + "`");
    assert.ok(row, code);
    assert.deepEqual(
      row.slice(1),
      [String(number), String(httpStatus), retryable ? "yes" : "no", message],
      code,
    );
  }
  assert.equal(documented.size, Object.keys(ErrorCodes).length, "no stale codes");
});

Deno.test("PROTOCOL.md's close-code table lists every close code the gateway uses", () => {
  const table = rows(section("### WebSocket close codes"));
  assert.deepEqual(
    table.map((row) => Number(row[0])).sort(),
    Object.values(CloseCodes).sort(),
  );
});

Deno.test("PROTOCOL.md's limits match the server's configuration defaults", () => {
  const config = parseConfig([], () => undefined);
  const limits = section("## Limits (server defaults, all configurable)");
  const mib = (n: number) => `${n / (1024 * 1024)} MiB`;
  assert.match(limits, new RegExp(`${mib(config.maxFrameBytes)} \\(\`--max-frame-bytes\`\\)`));
  assert.match(limits, new RegExp(`${mib(config.maxJsonBytes)} \\(\`--max-json-bytes\`\\)`));
  assert.match(limits, new RegExp(`${mib(config.maxArtifactBytes)} \\(\`--max-artifact-bytes\`\\)`));
  const rate = config.maxMessagesPerSecond;
  assert.match(
    limits,
    new RegExp(`${rate}/s sustained, bursts of ${rate * 2} \\(\`--max-messages-per-second\`\\)`),
  );
  assert.match(limits, new RegExp(`${config.handshakeTimeoutMs / 1000} s \\(\`--handshake-timeout-ms\`\\)`));
  assert.match(limits, new RegExp(`${config.resumeGraceMs / 1000} s \\(\`--resume-grace-ms\`\\)`));
  assert.match(
    limits,
    new RegExp(`${config.heartbeatIntervalMs / 1000} s / ${config.heartbeatTimeoutMs / 1000} s`),
  );
});

Deno.test("PROTOCOL.md names the device endpoint as a full URL", () => {
  assert.match(protocolMd, /`ws:\/\/127\.0\.0\.1:8080\/v1\/device`/);
  assert.match(protocolMd, /`wss:\/\/127\.0\.0\.1:8080\/v1\/device`/);
});

Deno.test("PROTOCOL.md's packed layout tables list each packed type's fields, in wire order, with their encoding", () => {
  const packed = section("### Packed payloads");
  const packedTypes = TYPES.filter((type) => MessageTypes[type].payload === "packed");
  assert.deepEqual(
    Object.keys(PACKED_LAYOUTS).sort(),
    [...packedTypes].sort(),
    "a layout for each packed type",
  );
  const bytes = { u64: "8", i32: "4", u8: "1", str: "2 + n", "str?": "2 + n" };
  for (const [type, fields] of Object.entries(PACKED_LAYOUTS)) {
    const code = "0x" + MessageTypes[type as MessageType].code.toString(16).padStart(2, "0");
    const start = packed.indexOf(`**${type}** (\`${code}\`)`);
    assert.ok(start >= 0, `a table for ${type}`);
    const table = rows(packed.slice(start).split("\n\n").slice(0, 2).join("\n"));
    assert.deepEqual(
      table.map((row) => row.slice(0, 3)),
      fields.map((field) => ["`" + field.name + "`", field.kind, bytes[field.kind]]),
      type,
    );
  }
});

Deno.test("PROTOCOL.md states the protocol version the code speaks and the range the server accepts", () => {
  assert.match(protocolMd, new RegExp(`^# ALIEN3 control protocol, version ${PROTOCOL_VERSION}\n`));
  assert.match(
    section("### Version negotiation"),
    new RegExp(`today ${MIN_PROTOCOL_VERSION}\\.\\.${PROTOCOL_VERSION}`),
  );
});
