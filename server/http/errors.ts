/**
 * HTTP errors, in the one vocabulary: a code from `shared/protocol/errors.ts`, whose table gives the status.
 * Every error body is `{"error": {"code", "message"}}` (plus `details` for DAG refusals).
 */
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { type ErrorCode, ErrorCodes, type Failure, protocolError } from "../../shared/protocol/mod.ts";

/** An error that becomes an HTTP response. */
export class HttpError extends Error {
  readonly status: ContentfulStatusCode;
  readonly details?: unknown;

  /**
   * `message` defaults to the code's own. `status` overrides the table only for a refusal whose status
   * is the refusal's, not its first code's (a DAG refused at submit is 400, an edit's conflict 409).
   */
  constructor(
    readonly code: ErrorCode,
    message: string = protocolError(code).message,
    options: { details?: unknown; status?: 400 | 409 } = {},
  ) {
    super(message);
    this.name = "HttpError";
    this.status = (options.status ?? ErrorCodes[code].httpStatus) as ContentfulStatusCode;
    this.details = options.details;
  }

  /** The response a failure (from a device, the scheduler or the store) stands for. */
  static of(failure: Pick<Failure, "code" | "message">): HttpError {
    return new HttpError(failure.code, failure.message);
  }
}

/** The JSON error body. */
export function errorBody(
  code: string,
  message: string,
  details?: unknown,
): { error: { code: string; message: string; details?: unknown } } {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}
