/**
 * The one table of wire error codes. Ranges: 1xxx framing, 2xxx auth and session,
 * 3xxx scheduling, 4xxx execution, 5xxx server. Each code has a stable kebab-case name used on the wire and in
 * REST error bodies, and a default message.
 */
export const ErrorCodes = {
  "bad-header": { number: 1001, message: "Cannot decode frame: header is malformed" },
  "length-mismatch": { number: 1002, message: "Cannot decode frame: declared length differs from payload" },
  "frame-too-large": { number: 1003, message: "Cannot decode frame: frame exceeds the size limit" },
  "unknown-type": { number: 1004, message: "Cannot decode frame: unknown message type" },
  "bad-json": { number: 1005, message: "Cannot decode frame: payload is not valid UTF-8 JSON" },
  "schema-violation": { number: 1006, message: "Cannot accept message: payload fails its schema" },
  "text-frame": { number: 1007, message: "Cannot accept message: text frames are not part of the protocol" },
  "rate-limited": { number: 1008, message: "Cannot accept message: rate limit exceeded" },
  "wrong-direction": { number: 1009, message: "Cannot accept message: this side may not send that type" },
  "too-many-errors": { number: 1010, message: "Closing connection: too many protocol errors" },
  "unauthorized": { number: 2001, message: "Cannot authenticate: key is missing, wrong or revoked" },
  "wrong-scope": { number: 2002, message: "Cannot authenticate: key has the wrong scope" },
  "out-of-order": { number: 2003, message: "Cannot accept message: not allowed in the current state" },
  "version-unsupported": { number: 2004, message: "Cannot connect: protocol version not supported" },
  "handshake-timeout": { number: 2005, message: "Closing connection: handshake took too long" },
  "heartbeat-timeout": { number: 2006, message: "Closing connection: heartbeats missed" },
  "key-revoked": { number: 2007, message: "Closing connection: key was revoked" },
  "session-replaced": { number: 2008, message: "Closing connection: a newer connection took this session" },
  "unknown-session": { number: 2009, message: "Cannot resume: session is unknown or expired" },
  "server-shutdown": { number: 2010, message: "Closing connection: server is shutting down" },
  "not-your-work": { number: 3001, message: "Cannot accept result: the work is not assigned to this device" },
  "unknown-task": { number: 3002, message: "Cannot accept message: unknown task" },
  "device-busy": { number: 3003, message: "Cannot start work: device is busy" },
  "device-lost": { number: 3004, message: "Stopped: the device went offline" },
  "unknown-device": { number: 3005, message: "Cannot find device" },
  "device-offline": { number: 3006, message: "Cannot reach device: it is offline" },
  "send-refused": { number: 3007, message: "Cannot send: the device's queue is full" },
  "action-failed": { number: 4001, message: "Cannot execute action: it failed on the device" },
  "out-of-bounds": { number: 4002, message: "Cannot execute action: coordinates are outside the screen" },
  "unknown-key": { number: 4003, message: "Cannot execute action: unknown key name" },
  "unknown-app": { number: 4004, message: "Cannot execute action: unknown application" },
  "no-input": { number: 4005, message: "Cannot execute action: device has no input ability" },
  "cancelled": { number: 4006, message: "Stopped: the task was cancelled" },
  "timeout": { number: 4007, message: "Stopped: the deadline passed" },
  "path-escape": { number: 4008, message: "Cannot use path: it leaves the files directory" },
  "checksum-mismatch": { number: 4009, message: "Cannot accept artifact: SHA-256 does not match" },
  "artifact-too-large": { number: 4010, message: "Cannot accept artifact: size exceeds the limit" },
  "internal": { number: 4999, message: "Internal error" },
  "storage-full": { number: 5001, message: "Cannot store the change: the disk is full" },
  "storage-failed": { number: 5002, message: "Cannot store the change: the store failed" },
} as const;

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
