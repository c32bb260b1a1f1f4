// The helper's one error type: a failure with a wire code (see shared/protocol/errors.ts).

/** An error with a wire code. */
export class CodedError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}
