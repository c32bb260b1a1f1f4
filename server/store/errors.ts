/**
 * Store failures as data. A write the store refuses becomes a `StorageError` (`storage-full` when the
 * disk has no room, `storage-failed` for anything else) carrying SQLite's own message for the log; a store
 * that cannot be opened at all becomes a `StoreOpenError` whose message is the one line an operator needs.
 */

/** The codes of a refused write, as in `shared/protocol/errors.ts`. */
export type StorageErrorCode = "storage-full" | "storage-failed";

/** A write the store refused. The server stays up; the caller gets a coded answer. */
export class StorageError extends Error {
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    /** SQLite's (or the file system's) own message, for the log. */
    readonly detail: string,
  ) {
    super(message);
    this.name = "StorageError";
  }
}

/** The store cannot be opened, checked or replayed: start-up stops with this one-line message. */
export class StoreOpenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreOpenError";
  }
}

/** Whether `error` came from SQLite (node:sqlite marks its errors with `ERR_SQLITE_ERROR`). */
export function isSqliteError(error: unknown): error is Error {
  return error instanceof Error && (error as { code?: unknown }).code === "ERR_SQLITE_ERROR";
}

/** Whether SQLite's message means the disk (or the database's size limit) is full. */
export function isFullMessage(message: string): boolean {
  return /database or disk is full|no space left on device/i.test(message);
}

/**
 * The `StorageError` for a failed write to `file`, or null when `error` is not a store error (a bug,
 * which callers rethrow as it is).
 */
export function toStorageError(error: unknown, file: string): StorageError | null {
  if (error instanceof StorageError) return error;
  const noSpace = error instanceof Error && (error as { code?: unknown }).code === "ENOSPC";
  if (!isSqliteError(error) && !noSpace) return null;
  const detail = (error as Error).message;
  return isFullMessage(detail) || noSpace
    ? new StorageError("storage-full", `Cannot store the change: the disk holding ${file} is full`, detail)
    : new StorageError(
      "storage-failed",
      `Cannot store the change: writing ${file} failed (${detail})`,
      detail,
    );
}
