/**
 * Test vectors: a valid sample payload for every message type (round trips), and the golden frames
 * PROTOCOL.md shows in hex. The test checks PROTOCOL.md's hex against the codec byte for byte.
 */
import { encodeArtifactChunk, encodeStreamFrame } from "./binary_payloads.ts";
import type { MessageType, PayloadInputOf } from "./messages.ts";

const SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

/** One valid payload per message type. */
export const SAMPLE_PAYLOADS: { [T in MessageType]: PayloadInputOf<T> } = {
  CONNECT: { protocolVersion: 2, token: "a3d_example", clientVersion: "alien3-client/0.1.0" },
  ACK: {
    sessionId: "s1",
    protocolVersion: 2,
    heartbeatIntervalMs: 10000,
    heartbeatTimeoutMs: 30000,
    limits: { maxFrameBytes: 16777216, maxJsonBytes: 1048576, maxMessagesPerSecond: 200 },
    resumed: false,
    lastSeq: 0,
  },
  REGISTER_CAPABILITIES: {
    name: "laptop-a",
    os: { platform: "linux", version: "Debian 12", hostname: "a" },
    apps: ["Firefox"],
    screens: [{ width: 1280, height: 800 }],
    input: { mouse: true, keyboard: true },
    media: { capture: true, webrtc: false },
    tags: ["office"],
  },
  READY: { deviceId: "dev_0123456789abcdef0123", name: "laptop-a" },
  PING: { id: 7, sentAtMs: 1700000000000 },
  PONG: { id: 7 },
  SEQ_ACK: { seq: 3 },
  BYE: { reason: "client stopping" },
  ERROR: { code: "unknown-type", message: "Cannot decode frame: unknown message type: 0x7f" },
  EXECUTE_TASK: {
    seq: 1,
    taskId: "d1.download.1",
    dagId: "d1",
    nodeId: "download",
    attempt: 1,
    kind: "script",
    inputs: [{ artifact: "report", file: "in/report.pdf", size: 4, sha256: SHA }],
    outputs: [{ artifact: "out", file: "out.txt" }],
    deadlineMs: 1700000060000,
  },
  CANCEL_TASK: { seq: 2, taskId: "d1.download.1", reason: "cancelled by operator" },
  RESULT: { seq: 4, actionId: "a1", ok: true, timings: { receivedAtMs: 1, startedAtMs: 2, endedAtMs: 3 } },
  PROGRESS: { seq: 5, taskId: "d1.download.1", message: "halfway", fraction: 0.5 },
  TASK_ACCEPTED: { seq: 6, taskId: "d1.download.1" },
  FINISH_TASK: { seq: 7, taskId: "d1.download.1" },
  ACTION_MOVE: { seq: 8, actionId: "a2", taskId: "d1.download.1", x: 10, y: -20 },
  ACTION_CLICK: { seq: 9, actionId: "a3", x: 100, y: 200, button: "left", double: false },
  ACTION_DRAG: { seq: 10, actionId: "a4", from: { x: 1, y: 2 }, to: { x: 3, y: 4 }, button: "left" },
  ACTION_TYPE: { seq: 11, actionId: "a5", text: "héllo ✓" },
  ACTION_KEY: { seq: 12, actionId: "a6", keys: "ctrl+shift+t" },
  ACTION_SCROLL: { seq: 13, actionId: "a7", dx: 0, dy: 3 },
  ACTION_LAUNCH: { seq: 14, actionId: "a8", app: "Calculator" },
  REQUEST_FRAME: { seq: 15, actionId: "a9", format: "png", scale: 0.5, quality: 80 },
  ACTION_RUN: { seq: 20, actionId: "a20", command: "sh", args: ["-c", "echo hi"], timeoutMs: 5000 },
  REQUEST_WINDOWS: { seq: 21, actionId: "a21" },
  REQUEST_FILE_INFO: { seq: 22, actionId: "a22", path: "out/report.txt" },
  STREAM_FRAME: encodeStreamFrame(
    {
      actionId: "a9",
      format: "png",
      width: 2,
      height: 1,
      originalWidth: 4,
      originalHeight: 2,
      capturedAtMs: 1700000000000,
    },
    new Uint8Array([0x89, 0x50, 0x4e, 0x47]),
  ),
  RTC_OFFER: { sdp: "v=0" },
  RTC_ANSWER: { sdp: "v=0" },
  RTC_ICE: { candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host", sdpMid: "0", sdpMLineIndex: 0 },
  ARTIFACT_BEGIN: {
    seq: 16,
    transferId: "t1",
    taskId: "d1.download.1",
    artifact: "report",
    size: 4,
    sha256: SHA,
  },
  ARTIFACT_CHUNK: encodeArtifactChunk({
    transferId: "t1",
    offset: 0,
    data: new Uint8Array([0x74, 0x65, 0x73, 0x74]),
  }),
  ARTIFACT_END: { seq: 17, transferId: "t1" },
  ARTIFACT_REQUEST: { seq: 18, transferId: "t2", taskId: "d1.upload.1", artifact: "report" },
};

/** The golden frames of PROTOCOL.md, all stamped with this time. */
export const VECTOR_TIMESTAMP_MS = 1700000000000;

/** Message types PROTOCOL.md gives hex vectors for. */
export const VECTOR_TYPES = [
  "CONNECT",
  "ACK",
  "READY",
  "PING",
  "PONG",
  "SEQ_ACK",
  "TASK_ACCEPTED",
  "FINISH_TASK",
  "ACTION_MOVE",
  "ACTION_CLICK",
  "RESULT",
  "ERROR",
  "STREAM_FRAME",
  "ARTIFACT_CHUNK",
] as const satisfies readonly MessageType[];

/**
 * The golden frames: each vector type's sample payload, stamped VECTOR_TIMESTAMP_MS, as the codec encodes
 * it, in lower-case hex, 32 bytes a line. Literal so that an implementation in another language (or a
 * changed codec) can be checked against them; PROTOCOL.md renders the same lines.
 */
export const GOLDEN_HEX: { readonly [T in (typeof VECTOR_TYPES)[number]]: readonly string[] } = {
  CONNECT: [
    "01000000510000018bcfe568007b2270726f746f636f6c56657273696f6e223a",
    "322c22746f6b656e223a226133645f6578616d706c65222c22636c69656e7456",
    "657273696f6e223a22616c69656e332d636c69656e742f302e312e30227d",
  ],
  ACK: [
    "02000000cf0000018bcfe568007b2273657373696f6e4964223a227331222c22",
    "70726f746f636f6c56657273696f6e223a322c22686561727462656174496e74",
    "657276616c4d73223a31303030302c2268656172746265617454696d656f7574",
    "4d73223a33303030302c226c696d697473223a7b226d61784672616d65427974",
    "6573223a31363737373231362c226d61784a736f6e4279746573223a31303438",
    "3537362c226d61784d657373616765735065725365636f6e64223a3230307d2c",
    "22726573756d6564223a66616c73652c226c617374536571223a307d",
  ],
  READY: [
    "04000000390000018bcfe568007b226465766963654964223a226465765f3031",
    "323334353637383961626364656630313233222c226e616d65223a226c617074",
    "6f702d61227d",
  ],
  PING: [
    "05000000100000018bcfe5680000000000000000070000018bcfe56800",
  ],
  PONG: [
    "06000000080000018bcfe568000000000000000007",
  ],
  SEQ_ACK: [
    "07000000080000018bcfe568000000000000000003",
  ],
  TASK_ACCEPTED: [
    "14000000170000018bcfe568000000000000000006000d64312e646f776e6c6f",
    "61642e31",
  ],
  FINISH_TASK: [
    "15000000170000018bcfe568000000000000000007000d64312e646f776e6c6f",
    "61642e31",
  ],
  ACTION_MOVE: [
    "20000000230000018bcfe5680000000000000000080000000affffffec000261",
    "32000d64312e646f776e6c6f61642e31",
  ],
  ACTION_CLICK: [
    "21000000180000018bcfe56800000000000000000900000064000000c8000000",
    "0261330000",
  ],
  RESULT: [
    "120000005e0000018bcfe568007b22736571223a342c22616374696f6e496422",
    "3a226131222c226f6b223a747275652c2274696d696e6773223a7b2272656365",
    "6976656441744d73223a312c227374617274656441744d73223a322c22656e64",
    "656441744d73223a337d7d",
  ],
  ERROR: [
    "09000000530000018bcfe568007b22636f6465223a22756e6b6e6f776e2d7479",
    "7065222c226d657373616765223a2243616e6e6f74206465636f646520667261",
    "6d653a20756e6b6e6f776e206d65737361676520747970653a2030783766227d",
  ],
  STREAM_FRAME: [
    "300000007f0000018bcfe56800000000777b22616374696f6e4964223a226139",
    "222c22666f726d6174223a22706e67222c227769647468223a322c2268656967",
    "6874223a312c226f726967696e616c5769647468223a342c226f726967696e61",
    "6c486569676874223a322c22636170747572656441744d73223a313730303030",
    "303030303030307d89504e47",
  ],
  ARTIFACT_CHUNK: [
    "410000000f0000018bcfe56800027431000000000000000074657374",
  ],
};

/** Bytes as lower-case hex, 32 bytes a line. */
export function toHex(bytes: Uint8Array): string {
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return (hex.match(/.{1,64}/g) ?? []).join("\n");
}

/** Hex (whitespace ignored) to bytes; throws on anything but pairs of hex digits. */
export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, "");
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(clean)) throw new Error(`not hex: ${hex.slice(0, 40)}`);
  return Uint8Array.from(clean.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}
