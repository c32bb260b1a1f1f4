import { z } from "zod";

/** One row of the error table. */
export interface ErrorSpec {
  /** Stable number within its range. */
  number: number;
  /** Default message: sentence case, the action first, detail after a colon. */
  message: string;
  /** The HTTP status a REST response with this code carries. */
  httpStatus: number;
  /** Whether trying again may help (a failure's default; a failure may say otherwise). */
  retryable: boolean;
}

/**
 * The one table of error codes, for the wire, REST bodies, task failures and DAG refusals alike. Ranges:
 * 1xxx framing, 2xxx auth and session, 3xxx scheduling, 4xxx execution, 5xxx server, 6xxx REST API, 7xxx
 * DAG rules. Each code has a stable kebab-case name, a default message, its HTTP status and whether
 * retrying may help.
 */
export const ErrorCodes = {
  "bad-header": {
    number: 1001,
    message: "Cannot decode frame: header is malformed",
    httpStatus: 400,
    retryable: false,
  },
  "length-mismatch": {
    number: 1002,
    message: "Cannot decode frame: declared length differs from payload",
    httpStatus: 400,
    retryable: false,
  },
  "frame-too-large": {
    number: 1003,
    message: "Cannot decode frame: frame exceeds the size limit",
    httpStatus: 413,
    retryable: false,
  },
  "unknown-type": {
    number: 1004,
    message: "Cannot decode frame: unknown message type",
    httpStatus: 400,
    retryable: false,
  },
  "bad-json": {
    number: 1005,
    message: "Cannot decode frame: payload is not valid UTF-8 JSON",
    httpStatus: 400,
    retryable: false,
  },
  "schema-violation": {
    number: 1006,
    message: "Cannot accept message: payload fails its schema",
    httpStatus: 422,
    retryable: false,
  },
  "text-frame": {
    number: 1007,
    message: "Cannot accept message: text frames are not part of the protocol",
    httpStatus: 400,
    retryable: false,
  },
  "rate-limited": {
    number: 1008,
    message: "Cannot accept message: rate limit exceeded",
    httpStatus: 429,
    retryable: true,
  },
  "wrong-direction": {
    number: 1009,
    message: "Cannot accept message: this side may not send that type",
    httpStatus: 400,
    retryable: false,
  },
  "too-many-errors": {
    number: 1010,
    message: "Closing connection: too many protocol errors",
    httpStatus: 400,
    retryable: false,
  },
  "unauthorized": {
    number: 2001,
    message: "Cannot authenticate: key is missing, wrong or revoked",
    httpStatus: 401,
    retryable: false,
  },
  "wrong-scope": {
    number: 2002,
    message: "Cannot authenticate: key has the wrong scope",
    httpStatus: 403,
    retryable: false,
  },
  "out-of-order": {
    number: 2003,
    message: "Cannot accept message: not allowed in the current state",
    httpStatus: 409,
    retryable: false,
  },
  "version-unsupported": {
    number: 2004,
    message: "Cannot connect: protocol version not supported",
    httpStatus: 400,
    retryable: false,
  },
  "handshake-timeout": {
    number: 2005,
    message: "Closing connection: handshake took too long",
    httpStatus: 408,
    retryable: true,
  },
  "heartbeat-timeout": {
    number: 2006,
    message: "Closing connection: heartbeats missed",
    httpStatus: 408,
    retryable: true,
  },
  "key-revoked": {
    number: 2007,
    message: "Closing connection: key was revoked",
    httpStatus: 401,
    retryable: false,
  },
  "session-replaced": {
    number: 2008,
    message: "Closing connection: a newer connection took this session",
    httpStatus: 409,
    retryable: false,
  },
  "unknown-session": {
    number: 2009,
    message: "Cannot resume: session is unknown or expired",
    httpStatus: 404,
    retryable: false,
  },
  "server-shutdown": {
    number: 2010,
    message: "Closing connection: server is shutting down",
    httpStatus: 503,
    retryable: true,
  },
  "key-bound-to-other-device": {
    number: 2011,
    message: "Cannot register: the key is bound to another device name",
    httpStatus: 403,
    retryable: false,
  },
  "device-already-enrolled": {
    number: 2012,
    message: "Cannot enroll: a live key is already bound to this device name",
    httpStatus: 409,
    retryable: false,
  },
  "device-already-connected": {
    number: 2013,
    message: "Cannot register: another client is connected as this device",
    httpStatus: 409,
    retryable: true,
  },
  "not-your-work": {
    number: 3001,
    message: "Cannot accept result: the work is not assigned to this device",
    httpStatus: 403,
    retryable: false,
  },
  "unknown-task": {
    number: 3002,
    message: "Cannot accept message: unknown task",
    httpStatus: 404,
    retryable: false,
  },
  "device-busy": {
    number: 3003,
    message: "Cannot start work: device is busy",
    httpStatus: 409,
    retryable: true,
  },
  "device-lost": {
    number: 3004,
    message: "Stopped: the device went offline",
    httpStatus: 409,
    retryable: true,
  },
  "unknown-device": { number: 3005, message: "Cannot find device", httpStatus: 404, retryable: false },
  "device-offline": {
    number: 3006,
    message: "Cannot reach device: it is offline",
    httpStatus: 409,
    retryable: true,
  },
  "send-refused": {
    number: 3007,
    message: "Cannot send: the device's queue is full",
    httpStatus: 409,
    retryable: true,
  },
  "device-online": {
    number: 3008,
    message: "Cannot forget device: it is connected",
    httpStatus: 409,
    retryable: false,
  },
  "action-failed": {
    number: 4001,
    message: "Cannot execute action: it failed on the device",
    httpStatus: 422,
    retryable: false,
  },
  "out-of-bounds": {
    number: 4002,
    message: "Cannot execute action: coordinates are outside the screen",
    httpStatus: 422,
    retryable: false,
  },
  "unknown-key": {
    number: 4003,
    message: "Cannot execute action: unknown key name",
    httpStatus: 422,
    retryable: false,
  },
  "unknown-app": {
    number: 4004,
    message: "Cannot execute action: unknown application",
    httpStatus: 422,
    retryable: false,
  },
  "no-input": {
    number: 4005,
    message: "Cannot execute action: device has no input ability",
    httpStatus: 422,
    retryable: false,
  },
  "cancelled": {
    number: 4006,
    message: "Stopped: the task was cancelled",
    httpStatus: 409,
    retryable: false,
  },
  "timeout": { number: 4007, message: "Stopped: the deadline passed", httpStatus: 504, retryable: true },
  "path-escape": {
    number: 4008,
    message: "Cannot use path: it leaves the files directory",
    httpStatus: 422,
    retryable: false,
  },
  "checksum-mismatch": {
    number: 4009,
    message: "Cannot accept artifact: SHA-256 does not match",
    httpStatus: 422,
    retryable: true,
  },
  "artifact-too-large": {
    number: 4010,
    message: "Cannot accept artifact: size exceeds the limit",
    httpStatus: 413,
    retryable: false,
  },
  "ocr-unavailable": {
    number: 4011,
    message: "Cannot read screen text: no OCR engine is available",
    httpStatus: 503,
    retryable: false,
  },
  "text-not-found": {
    number: 4012,
    message: "Cannot find text on screen",
    httpStatus: 422,
    retryable: true,
  },
  "condition-timeout": {
    number: 4013,
    message: "Stopped: the condition was not met in time",
    httpStatus: 504,
    retryable: true,
  },
  "run-not-allowed": {
    number: 4014,
    message: "Cannot run program: this device was not started with --allow-run",
    httpStatus: 403,
    retryable: false,
  },
  "run-failed": {
    number: 4015,
    message: "Cannot complete program: it exited with an error",
    httpStatus: 422,
    retryable: false,
  },
  "bad-model-output": {
    number: 4016,
    message: "Cannot act: the model's reply is not a valid tool call",
    httpStatus: 422,
    retryable: true,
  },
  "rejected-by-operator": {
    number: 4017,
    message: "Stopped: an operator rejected the action",
    httpStatus: 409,
    retryable: false,
  },
  "budget-exceeded": {
    number: 4018,
    message: "Stopped: the node used up its step or token budget",
    httpStatus: 422,
    retryable: false,
  },
  "internal": { number: 4999, message: "Internal error", httpStatus: 500, retryable: true },
  "storage-full": {
    number: 5001,
    message: "Cannot store the change: the disk is full",
    httpStatus: 507,
    retryable: true,
  },
  "storage-failed": {
    number: 5002,
    message: "Cannot store the change: the store failed",
    httpStatus: 503,
    retryable: true,
  },
  "server-restart": {
    number: 5003,
    message: "Stopped: the server restarted while the attempt was in flight",
    httpStatus: 503,
    retryable: true,
  },
  "no-llm-configured": {
    number: 5004,
    message: "Cannot plan or act: no model is configured (--llm-base-url, --llm-model)",
    httpStatus: 503,
    retryable: false,
  },
  "llm-failed": {
    number: 5005,
    message: "Cannot get a decision: the model's API failed",
    httpStatus: 502,
    retryable: true,
  },
  "not-found": { number: 6001, message: "Cannot find the route", httpStatus: 404, retryable: false },
  "invalid-body": {
    number: 6002,
    message: "Cannot accept body: it is not the expected JSON",
    httpStatus: 400,
    retryable: false,
  },
  "body-too-large": {
    number: 6003,
    message: "Cannot read body: it exceeds the size limit",
    httpStatus: 413,
    retryable: false,
  },
  "invalid-query": {
    number: 6004,
    message: "Cannot accept query: a parameter is invalid",
    httpStatus: 400,
    retryable: false,
  },
  "upgrade-required": {
    number: 6005,
    message: "Cannot serve device endpoint: use a WebSocket upgrade",
    httpStatus: 426,
    retryable: false,
  },
  "unknown-dag": { number: 6006, message: "Cannot find DAG", httpStatus: 404, retryable: false },
  "dag-finished": {
    number: 6007,
    message: "Cannot change DAG: it has ended",
    httpStatus: 409,
    retryable: false,
  },
  "unknown-artifact": { number: 6008, message: "Cannot find artifact", httpStatus: 404, retryable: false },
  "unknown-api-key": { number: 6009, message: "Cannot find key", httpStatus: 404, retryable: false },
  "no-frame": {
    number: 6010,
    message: "Cannot return frame: the device sent none",
    httpStatus: 502,
    retryable: true,
  },
  "unknown-dag-node": {
    number: 6011,
    message: "Cannot find node in DAG",
    httpStatus: 404,
    retryable: false,
  },
  "unknown-frame": {
    number: 6012,
    message: "Cannot find step frame: the step has none, or it was deleted",
    httpStatus: 404,
    retryable: false,
  },
  "plan-refused": {
    number: 6013,
    message: "Cannot plan: the model's plan is not a valid DAG",
    httpStatus: 422,
    retryable: true,
  },
  "no-pending-approval": {
    number: 6014,
    message: "Cannot answer: the node holds no action for approval",
    httpStatus: 409,
    retryable: false,
  },
  "no-video": {
    number: 6015,
    message: "Cannot open viewer: the device sends no video",
    httpStatus: 409,
    retryable: true,
  },
  "invalid-dag": {
    number: 7001,
    message: "Cannot accept DAG: it does not match the schema",
    httpStatus: 400,
    retryable: false,
  },
  "cycle": {
    number: 7002,
    message: "Cannot accept DAG: its dependencies form a cycle",
    httpStatus: 400,
    retryable: false,
  },
  "unknown-dependency": {
    number: 7003,
    message: "Cannot accept DAG: a node depends on an unknown node",
    httpStatus: 400,
    retryable: false,
  },
  "self-dependency": {
    number: 7004,
    message: "Cannot accept DAG: a node depends on itself",
    httpStatus: 400,
    retryable: false,
  },
  "duplicate-node": {
    number: 7005,
    message: "Cannot accept DAG: two nodes share an id",
    httpStatus: 400,
    retryable: false,
  },
  "duplicate-artifact": {
    number: 7006,
    message: "Cannot accept DAG: two nodes produce one artifact",
    httpStatus: 400,
    retryable: false,
  },
  "artifact-not-upstream": {
    number: 7007,
    message: "Cannot accept DAG: an artifact's producer is not upstream of its user",
    httpStatus: 400,
    retryable: false,
  },
  "limit-exceeded": {
    number: 7008,
    message: "Cannot accept DAG: it exceeds a limit",
    httpStatus: 400,
    retryable: false,
  },
  "agent-unsupported": {
    number: 7009,
    message: "Cannot accept DAG: agent nodes need the Brain",
    httpStatus: 400,
    retryable: false,
  },
  "unknown-node": {
    number: 7010,
    message: "Cannot edit DAG: no such node",
    httpStatus: 400,
    retryable: false,
  },
  "node-not-removable": {
    number: 7011,
    message: "Cannot edit DAG: the node has started or ended",
    httpStatus: 409,
    retryable: false,
  },
  "removed-dependency": {
    number: 7012,
    message: "Cannot edit DAG: a kept node depends on a removed one",
    httpStatus: 400,
    retryable: false,
  },
} as const satisfies Record<string, ErrorSpec>;

/** A kebab-case wire error code. */
export type ErrorCode = keyof typeof ErrorCodes;

/** All error code names, for zod enums. */
export const ERROR_CODE_NAMES = Object.keys(ErrorCodes) as [ErrorCode, ...ErrorCode[]];

/** A protocol error as data: a code plus a human message and optional detail. */
export interface ProtocolError {
  code: ErrorCode;
  message: string;
  /** Message type code or id the error refers to, when known. */
  ref?: string;
  /** For `rate-limited`: how long the sender should wait before sending again. */
  retryAfterMs?: number;
}

/** Builds a protocol error, using the code's default message when `detail` is absent. */
export function protocolError(code: ErrorCode, detail?: string, ref?: string): ProtocolError {
  const base = ErrorCodes[code].message;
  const error: ProtocolError = { code, message: detail ? `${base}: ${detail}` : base };
  if (ref !== undefined) error.ref = ref;
  return error;
}

/** A schema's refusal as zod reports it: its issues, each with the field's path. */
export interface SchemaIssues {
  issues: readonly { path: readonly PropertyKey[]; message: string }[];
}

/** The first issue of a schema's refusal as text: `steps.0.x: Too big…`, or the bare message at the root. */
export function firstIssue(error: SchemaIssues): string {
  const issue = error.issues[0];
  return issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message;
}

/** The `schema-violation` a payload of `type` that its schema refused gets, on either payload form. */
export function schemaViolation(type: string, error: SchemaIssues): ProtocolError {
  return protocolError("schema-violation", `${type} ${firstIssue(error)}`, type);
}

/** A failure as data: what went wrong and whether trying again may help; the retry policy reads it. */
export const FailureSchema = z.object({
  code: z.enum(ERROR_CODE_NAMES),
  message: z.string().max(2000),
  retryable: z.boolean().default(false),
});
/** A failure as data. */
export type Failure = z.output<typeof FailureSchema>;

/** Builds a failure with the code's default message (and detail) and the code's default `retryable`. */
export function failure(
  code: ErrorCode,
  detail?: string,
  retryable: boolean = ErrorCodes[code].retryable,
): Failure {
  return { code, message: protocolError(code, detail).message, retryable };
}

/** A thrown failure: code paths that throw carry their `Failure` here. */
export class FailureError extends Error {
  constructor(readonly failure: Failure) {
    super(failure.message);
    this.name = "FailureError";
  }
}

/** The failure an unknown thrown value stands for: a `FailureError`'s own, else `fallback` with its message. */
export function toFailure(error: unknown, fallback: ErrorCode = "internal"): Failure {
  if (error instanceof FailureError) return error.failure;
  return failure(fallback, error instanceof Error ? error.message : String(error));
}
