/** HTTP errors with a code; every error body is `{"error": {"code", "message"}}`. */
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ErrorCode } from "../../shared/protocol/mod.ts";

/** An error that becomes an HTTP response. */
export class HttpError extends Error {
  constructor(readonly status: ContentfulStatusCode, readonly code: string, message: string) {
    super(message);
    this.name = "HttpError";
  }
}

/** The status an action or device error code maps to. */
export function statusForCode(code: ErrorCode | string): ContentfulStatusCode {
  switch (code) {
    case "unknown-device":
    case "unknown-task":
    case "not-found":
      return 404;
    case "device-offline":
    case "device-busy":
    case "send-refused":
    case "device-lost":
      return 409;
    case "timeout":
      return 504;
    case "storage-full":
      return 507;
    case "storage-failed":
      return 503;
    case "internal":
      return 500;
    default:
      return 422;
  }
}

/** The JSON error body. */
export function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}
