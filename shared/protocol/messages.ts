/**
 * The message table: every type code with its name, direction and payload kind, and a zod schema
 * for each JSON payload. PROTOCOL.md is the prose form of this file; keep the two in step.
 */
import { z } from "zod";
import {
  ClickActionSchema,
  DragActionSchema,
  FileInfoActionSchema,
  FrameActionSchema,
  KeyActionSchema,
  LaunchActionSchema,
  MoveActionSchema,
  RunActionSchema,
  ScrollActionSchema,
  StepSchema,
  TypeActionSchema,
  WindowsActionSchema,
} from "../actions.ts";
import { ERROR_CODE_NAMES, FailureSchema } from "./errors.ts";

/** Who may send a message type. */
export type Direction = "device-to-server" | "server-to-device" | "both";

/**
 * The protocol version this code speaks. Version 2 packs the hot fixed-shape messages (`payload:
 * "packed"`) and lets a WebSocket message carry several frames; CONNECT, ACK, BYE and ERROR keep their
 * JSON layouts in every version, so a peer of any version can read a refusal.
 */
export const PROTOCOL_VERSION = 2;
/** The oldest protocol version this code still accepts: a version 1 peer is refused (`version-unsupported`). */
export const MIN_PROTOCOL_VERSION = 2;

/** The most tasks a device may announce in REGISTER_CAPABILITIES.maxTasks. */
export const MAX_TASKS_PER_DEVICE = 1024;

const Seq = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const Id = z.string().min(1).max(128);
const Reliable = { seq: Seq };

/** A transfer id: 1-64 letters, digits, `_` or `-` (it is also carried, length-prefixed, in ARTIFACT_CHUNK). */
export const TRANSFER_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const TransferId = z.string().regex(TRANSFER_ID_PATTERN);

/** Limits a server announces in ACK. */
export const LimitsSchema = z.object({
  maxFrameBytes: z.number().int().positive(),
  maxJsonBytes: z.number().int().positive(),
  maxMessagesPerSecond: z.number().int().positive(),
});
/** Limits a server announces in ACK. */
export type Limits = z.infer<typeof LimitsSchema>;

/** CONNECT: the device's first message. */
export const ConnectSchema = z.object({
  protocolVersion: z.number().int().min(0).max(65535),
  token: z.string().min(1).max(512),
  clientVersion: z.string().min(1).max(64),
  /** Present when the device resumes a session after a dropped socket. */
  resume: z.object({ sessionId: Id, lastSeq: z.number().int().min(0) }).optional(),
});

/** ACK: the server accepts the key and opens (or resumes) a session. */
export const AckSchema = z.object({
  sessionId: Id,
  protocolVersion: z.number().int(),
  heartbeatIntervalMs: z.number().int().positive(),
  heartbeatTimeoutMs: z.number().int().positive(),
  limits: LimitsSchema,
  resumed: z.boolean(),
  /** Highest reliable seq the server has received from this device (0 on a new session). */
  lastSeq: z.number().int().min(0),
  /** The device id, known when the session is resumed. */
  deviceId: Id.optional(),
});

/** A screen's size in physical pixels. */
export const ScreenSchema = z.object({
  width: z.number().int().positive().max(100_000),
  height: z.number().int().positive().max(100_000),
});

/** REGISTER_CAPABILITIES: what the device is and can do. */
export const CapabilitiesSchema = z.object({
  name: z.string().min(1).max(100).regex(/^[A-Za-z0-9._-]+$/, "name uses letters, digits, '.', '_' or '-'"),
  os: z.object({
    platform: z.string().min(1).max(32),
    version: z.string().max(128).default(""),
    hostname: z.string().max(255).default(""),
  }),
  apps: z.array(z.string().min(1).max(300)).max(5000).default([]),
  screens: z.array(ScreenSchema).max(16).default([]),
  input: z.object({ mouse: z.boolean(), keyboard: z.boolean() }).default({ mouse: false, keyboard: false }),
  media: z.object({ capture: z.boolean(), webrtc: z.boolean() }).default({ capture: false, webrtc: false }),
  tags: z.array(z.string().min(1).max(64)).max(64).default([]),
  /**
   * Tasks (DAG node attempts) the device runs at once; the server never assigns more. Absent (older
   * clients): 1. GUI nodes stay one per device whatever this says.
   */
  maxTasks: z.number().int().min(1).max(MAX_TASKS_PER_DEVICE).default(1),
  /** Whether the device runs programs (`run` steps): only when started with `--allow-run`. */
  run: z.boolean().default(false),
});
/** What a device is and can do. */
export type Capabilities = z.infer<typeof CapabilitiesSchema>;

/** A device key the server minted for a device that joined with an enrollment key. */
export const CredentialSchema = z.object({ keyId: Id, secret: z.string().min(1).max(512) });
/** A minted device key: the device keeps it and joins with it from then on. */
export type Credential = z.infer<typeof CredentialSchema>;

/**
 * READY: the device may now receive work. A device that joined with an enrollment key also gets the key
 * minted for it (`credential`), which it stores and uses on every later CONNECT, resumes included.
 */
export const ReadySchema = z.object({
  deviceId: Id,
  name: z.string(),
  credential: CredentialSchema.optional(),
});
/** PING: server heartbeat. */
export const PingSchema = z.object({ id: z.number().int().min(0), sentAtMs: z.number().int().min(0) });
/** PONG: the device echoes the PING id. */
export const PongSchema = z.object({ id: z.number().int().min(0) });
/** SEQ_ACK: cumulative acknowledgement of reliable messages up to and including `seq`. */
export const SeqAckSchema = z.object({ seq: z.number().int().min(0) });
/** BYE: an orderly goodbye. */
export const ByeSchema = z.object({ reason: z.string().max(500) });
/** ERROR: a coded error, optionally referring to a message type, seq, action, task or transfer. */
export const ErrorSchema = z.object({
  code: z.enum(ERROR_CODE_NAMES),
  message: z.string().max(2000),
  ref: z.string().max(200).optional(),
  /** With `rate-limited`: wait this long before sending again (and resend from the seq in `ref`). */
  retryAfterMs: z.number().int().min(0).max(3_600_000).optional(),
});

/** A file handed to or from a task, relative to the device's files directory. */
export const TaskFileSchema = z.object({ artifact: Id, file: z.string().min(1).max(1024) });
/** An input artifact a device must fetch before it runs the task. */
export const TaskInputSchema = TaskFileSchema.extend({
  size: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

/** EXECUTE_TASK: start a node's attempt on the device. */
export const ExecuteTaskSchema = z.object({
  ...Reliable,
  taskId: Id,
  dagId: Id,
  nodeId: Id,
  attempt: z.number().int().positive(),
  kind: z.enum(["script", "agent"]),
  goal: z.string().max(10_000).optional(),
  steps: z.array(StepSchema).max(10_000).optional(),
  inputs: z.array(TaskInputSchema).max(100).default([]),
  outputs: z.array(TaskFileSchema).max(100).default([]),
  deadlineMs: z.number().int().min(0),
});
/** TASK_ACCEPTED: the device fetched the task's inputs and waits for its steps. */
export const TaskAcceptedSchema = z.object({ ...Reliable, taskId: Id });
/** FINISH_TASK: every step is done; the device uploads the declared outputs, then sends the task's RESULT. */
export const FinishTaskSchema = z.object({ ...Reliable, taskId: Id });
/** CANCEL_TASK: stop a task at the next action boundary. */
export const CancelTaskSchema = z.object({ ...Reliable, taskId: Id, reason: z.string().max(500) });

/** Timings of an action or task as the device measured them. */
export const TimingsSchema = z.object({
  receivedAtMs: z.number().int().min(0),
  startedAtMs: z.number().int().min(0),
  endedAtMs: z.number().int().min(0),
});

/** RESULT: the outcome of an action (with `actionId`) or of a task (with `taskId` alone). */
export const ResultSchema = z.object({
  ...Reliable,
  taskId: Id.optional(),
  actionId: Id.optional(),
  ok: z.boolean(),
  output: z.unknown().optional(),
  error: FailureSchema.optional(),
  artifacts: z.array(TaskInputSchema).max(100).optional(),
  timings: TimingsSchema.optional(),
}).refine((r) => r.taskId !== undefined || r.actionId !== undefined, "RESULT names a taskId or an actionId")
  .refine((r) => r.ok || r.error !== undefined, "a failed RESULT carries an error");

/** PROGRESS: a note on a running task. */
export const ProgressSchema = z.object({
  ...Reliable,
  taskId: Id,
  message: z.string().max(2000),
  fraction: z.number().min(0).max(1).optional(),
});

const ActionEnvelope = { ...Reliable, actionId: Id, taskId: Id.optional() };

/** ACTION_MOVE payload. */
export const ActionMoveSchema = MoveActionSchema.omit({ type: true }).extend(ActionEnvelope);
/** ACTION_CLICK payload. */
export const ActionClickSchema = ClickActionSchema.omit({ type: true }).extend(ActionEnvelope);
/** ACTION_DRAG payload. */
export const ActionDragSchema = DragActionSchema.omit({ type: true }).extend(ActionEnvelope);
/** ACTION_TYPE payload. */
export const ActionTypeSchema = TypeActionSchema.omit({ type: true }).extend(ActionEnvelope);
/** ACTION_KEY payload. */
export const ActionKeySchema = KeyActionSchema.omit({ type: true }).extend(ActionEnvelope);
/** ACTION_SCROLL payload. */
export const ActionScrollSchema = ScrollActionSchema.omit({ type: true }).extend(ActionEnvelope);
/** ACTION_LAUNCH payload. */
export const ActionLaunchSchema = LaunchActionSchema.omit({ type: true }).extend(ActionEnvelope);
/** REQUEST_FRAME payload; answered by STREAM_FRAME carrying the same actionId, then RESULT. */
export const RequestFrameSchema = FrameActionSchema.omit({ type: true }).extend(ActionEnvelope);
/** ACTION_RUN payload; the RESULT's output is `{exitCode, stdout, stderr, stdoutTruncated, stderrTruncated, durationMs}`. */
export const ActionRunSchema = RunActionSchema.omit({ type: true }).extend(ActionEnvelope);
/** REQUEST_WINDOWS payload; the RESULT's output is `{windows: [{title, x?, y?, width?, height?}]}`. */
export const RequestWindowsSchema = WindowsActionSchema.omit({ type: true }).extend(ActionEnvelope);
/** REQUEST_FILE_INFO payload; the RESULT's output is `{path, exists, size?, mtimeMs?}`. */
export const RequestFileInfoSchema = FileInfoActionSchema.omit({ type: true }).extend(ActionEnvelope);

/** RTC_OFFER / RTC_ANSWER payload. */
export const RtcSdpSchema = z.object({ sdp: z.string().min(1).max(200_000) });
/** RTC_ICE payload. */
export const RtcIceSchema = z.object({
  candidate: z.string().max(2000),
  sdpMid: z.string().max(64).nullable().optional(),
  sdpMLineIndex: z.number().int().min(0).nullable().optional(),
});

/** ARTIFACT_BEGIN: a chunked transfer starts; chunks follow as ARTIFACT_CHUNK. */
export const ArtifactBeginSchema = z.object({
  ...Reliable,
  transferId: TransferId,
  taskId: Id,
  artifact: Id,
  size: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
/** ARTIFACT_END: every chunk of the transfer has been sent. */
export const ArtifactEndSchema = z.object({
  ...Reliable,
  transferId: TransferId,
});
/** ARTIFACT_REQUEST: the device asks for an input artifact of its task. */
export const ArtifactRequestSchema = z.object({
  ...Reliable,
  transferId: TransferId,
  taskId: Id,
  artifact: Id,
});

/** The message table. Codes are stable; new types take free codes. */
export const MessageTypes = {
  CONNECT: { code: 0x01, direction: "device-to-server", payload: "json", schema: ConnectSchema },
  ACK: { code: 0x02, direction: "server-to-device", payload: "json", schema: AckSchema },
  REGISTER_CAPABILITIES: {
    code: 0x03,
    direction: "device-to-server",
    payload: "json",
    schema: CapabilitiesSchema,
  },
  READY: { code: 0x04, direction: "server-to-device", payload: "json", schema: ReadySchema },
  PING: { code: 0x05, direction: "server-to-device", payload: "packed", schema: PingSchema },
  PONG: { code: 0x06, direction: "device-to-server", payload: "packed", schema: PongSchema },
  SEQ_ACK: { code: 0x07, direction: "both", payload: "packed", schema: SeqAckSchema },
  BYE: { code: 0x08, direction: "both", payload: "json", schema: ByeSchema },
  ERROR: { code: 0x09, direction: "both", payload: "json", schema: ErrorSchema },
  EXECUTE_TASK: { code: 0x10, direction: "server-to-device", payload: "json", schema: ExecuteTaskSchema },
  CANCEL_TASK: { code: 0x11, direction: "server-to-device", payload: "json", schema: CancelTaskSchema },
  RESULT: { code: 0x12, direction: "device-to-server", payload: "json", schema: ResultSchema },
  PROGRESS: { code: 0x13, direction: "device-to-server", payload: "json", schema: ProgressSchema },
  TASK_ACCEPTED: { code: 0x14, direction: "device-to-server", payload: "packed", schema: TaskAcceptedSchema },
  FINISH_TASK: { code: 0x15, direction: "server-to-device", payload: "packed", schema: FinishTaskSchema },
  ACTION_MOVE: { code: 0x20, direction: "server-to-device", payload: "packed", schema: ActionMoveSchema },
  ACTION_CLICK: { code: 0x21, direction: "server-to-device", payload: "packed", schema: ActionClickSchema },
  ACTION_DRAG: { code: 0x22, direction: "server-to-device", payload: "json", schema: ActionDragSchema },
  ACTION_TYPE: { code: 0x23, direction: "server-to-device", payload: "json", schema: ActionTypeSchema },
  ACTION_KEY: { code: 0x24, direction: "server-to-device", payload: "json", schema: ActionKeySchema },
  ACTION_SCROLL: { code: 0x25, direction: "server-to-device", payload: "json", schema: ActionScrollSchema },
  ACTION_LAUNCH: { code: 0x26, direction: "server-to-device", payload: "json", schema: ActionLaunchSchema },
  REQUEST_FRAME: { code: 0x27, direction: "server-to-device", payload: "json", schema: RequestFrameSchema },
  ACTION_RUN: { code: 0x28, direction: "server-to-device", payload: "json", schema: ActionRunSchema },
  REQUEST_WINDOWS: {
    code: 0x29,
    direction: "server-to-device",
    payload: "json",
    schema: RequestWindowsSchema,
  },
  REQUEST_FILE_INFO: {
    code: 0x2a,
    direction: "server-to-device",
    payload: "json",
    schema: RequestFileInfoSchema,
  },
  STREAM_FRAME: { code: 0x30, direction: "device-to-server", payload: "binary", schema: null },
  RTC_OFFER: { code: 0x31, direction: "both", payload: "json", schema: RtcSdpSchema },
  RTC_ANSWER: { code: 0x32, direction: "both", payload: "json", schema: RtcSdpSchema },
  RTC_ICE: { code: 0x33, direction: "both", payload: "json", schema: RtcIceSchema },
  ARTIFACT_BEGIN: { code: 0x40, direction: "both", payload: "json", schema: ArtifactBeginSchema },
  ARTIFACT_CHUNK: { code: 0x41, direction: "both", payload: "binary", schema: null },
  ARTIFACT_END: { code: 0x42, direction: "both", payload: "json", schema: ArtifactEndSchema },
  ARTIFACT_REQUEST: {
    code: 0x43,
    direction: "device-to-server",
    payload: "json",
    schema: ArtifactRequestSchema,
  },
} as const;

/** A message type name. */
export type MessageType = keyof typeof MessageTypes;
type Table = typeof MessageTypes;

/**
 * How a type's payload travels: `json` (validated by its schema), `packed` (a fixed binary layout, see
 * `packed.ts`, decoding to what the schema returns) or `binary` (bytes, with their own layout).
 */
export type PayloadKind = "json" | "packed" | "binary";

/** The payload of a message type: the schema's output for JSON and packed types, bytes for binary ones. */
export type PayloadOf<T extends MessageType> = Table[T]["schema"] extends z.ZodType
  ? z.output<Table[T]["schema"]>
  : Uint8Array;
/** The payload a sender supplies: the schema's input (defaults may be omitted) or bytes. */
export type PayloadInputOf<T extends MessageType> = Table[T]["schema"] extends z.ZodType
  ? z.input<Table[T]["schema"]>
  : Uint8Array;

/** A decoded message: its type, payload and the sender's timestamp. */
export type Message = {
  [T in MessageType]: { type: T; payload: PayloadOf<T>; timestampMs: number };
}[MessageType];
/** A message of one type. */
export type MessageOf<T extends MessageType> = Extract<Message, { type: T }>;

/** Type name by code, for decoding. */
export const TYPE_BY_CODE: ReadonlyMap<number, MessageType> = new Map(
  (Object.keys(MessageTypes) as MessageType[]).map((name) => [MessageTypes[name].code, name]),
);

/** Types whose payload carries a `seq` and that are acknowledged, replayed on resume and de-duplicated. */
export const RELIABLE_TYPES: ReadonlySet<MessageType> = new Set<MessageType>([
  "EXECUTE_TASK",
  "CANCEL_TASK",
  "RESULT",
  "PROGRESS",
  "TASK_ACCEPTED",
  "FINISH_TASK",
  "ACTION_MOVE",
  "ACTION_CLICK",
  "ACTION_DRAG",
  "ACTION_TYPE",
  "ACTION_KEY",
  "ACTION_SCROLL",
  "ACTION_LAUNCH",
  "REQUEST_FRAME",
  "ACTION_RUN",
  "REQUEST_WINDOWS",
  "REQUEST_FILE_INFO",
  "ARTIFACT_BEGIN",
  "ARTIFACT_END",
  "ARTIFACT_REQUEST",
]);

/** Whether `side` may send messages of `type`. */
export function maySend(type: MessageType, side: "device" | "server"): boolean {
  const direction: Direction = MessageTypes[type].direction;
  return direction === "both" || direction === (side === "device" ? "device-to-server" : "server-to-device");
}
