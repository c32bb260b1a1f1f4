/**
 * Test vectors: a valid sample payload for every message type (round trips), and the golden frames
 * PROTOCOL.md shows in hex. The test checks PROTOCOL.md's hex against the codec byte for byte.
 */
import { encodeArtifactChunk, encodeStreamFrame } from "./binary_payloads.ts";
import type { MessageType, PayloadInputOf } from "./messages.ts";

const SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

/** One valid payload per message type. */
export const SAMPLE_PAYLOADS: { [T in MessageType]: PayloadInputOf<T> } = {
  CONNECT: { protocolVersion: 1, token: "a3d_example", clientVersion: "alien3-client/0.1.0" },
  ACK: {
    sessionId: "s1",
    protocolVersion: 1,
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
  ACTION_MOVE: { seq: 8, actionId: "a2", x: 10, y: 20 },
  ACTION_CLICK: { seq: 9, actionId: "a3", x: 100, y: 200, button: "left", double: false },
  ACTION_DRAG: { seq: 10, actionId: "a4", from: { x: 1, y: 2 }, to: { x: 3, y: 4 }, button: "left" },
  ACTION_TYPE: { seq: 11, actionId: "a5", text: "héllo ✓" },
  ACTION_KEY: { seq: 12, actionId: "a6", keys: "ctrl+shift+t" },
  ACTION_SCROLL: { seq: 13, actionId: "a7", dx: 0, dy: 3 },
  ACTION_LAUNCH: { seq: 14, actionId: "a8", app: "Calculator" },
  REQUEST_FRAME: { seq: 15, actionId: "a9", format: "png", scale: 0.5, quality: 80 },
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
export const VECTOR_TYPES: readonly MessageType[] = [
  "CONNECT",
  "ACK",
  "READY",
  "PING",
  "PONG",
  "ACTION_CLICK",
  "RESULT",
  "ERROR",
  "STREAM_FRAME",
  "ARTIFACT_CHUNK",
];

/** Bytes as lower-case hex, 32 bytes a line. */
export function toHex(bytes: Uint8Array): string {
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return hex.match(/.{1,64}/g)!.join("\n");
}
