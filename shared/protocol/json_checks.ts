/**
 * Precompiled checks for the JSON payloads where zod is most of the decoding cost (RESULT with its two
 * cross-field rules, EXECUTE_TASK with its nested lists, ERROR with its code enum, ACTION_TYPE on every
 * typed string): the schema's rules written out as plain code.
 * A check answers only "this parsed JSON is valid and already in the schema's output form" (no unknown
 * keys to strip, no defaults to fill in), returning it as the payload; anything else, valid or not, goes
 * to the zod schema, which stays the source of truth and the source of every error message.
 * `json_checks_test.ts` holds each check to its schema on mutated samples: a check never accepts what
 * the schema refuses, nor returns anything but what the schema returns.
 */
import { ERROR_CODE_NAMES } from "./errors.ts";
import type { MessageType, PayloadOf } from "./messages.ts";

type Json = Record<string, unknown>;

const MAX_ID_CHARS = 128;
const ERROR_CODES: ReadonlySet<string> = new Set(ERROR_CODE_NAMES);
const SHA256 = /^[0-9a-f]{64}$/;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const isId = (value: unknown) =>
  typeof value === "string" && value.length >= 1 && value.length <= MAX_ID_CHARS;
const isSeq = (value: unknown) => Number.isSafeInteger(value) && (value as number) >= 1;
const isCount = (value: unknown) => Number.isSafeInteger(value) && (value as number) >= 0;
const isFile = (value: unknown) => typeof value === "string" && value.length >= 1 && value.length <= 1024;

/** Whether every own key of `value` is in `allowed`, and how many there are. */
function countKeys(value: Json, allowed: ReadonlySet<string>): number {
  let count = 0;
  for (const key in value) {
    if (!allowed.has(key)) return -1;
    count++;
  }
  return count;
}

const FAILURE_KEYS = new Set(["code", "message", "retryable"]);
function isFailure(value: unknown): boolean {
  return isObject(value) && countKeys(value, FAILURE_KEYS) === 3 && ERROR_CODES.has(value.code as string) &&
    typeof value.message === "string" && value.message.length <= 2000 && typeof value.retryable === "boolean";
}

const TIMINGS_KEYS = new Set(["receivedAtMs", "startedAtMs", "endedAtMs"]);
function isTimings(value: unknown): boolean {
  return isObject(value) && countKeys(value, TIMINGS_KEYS) === 3 && isCount(value.receivedAtMs) &&
    isCount(value.startedAtMs) && isCount(value.endedAtMs);
}

const FILE_KEYS = new Set(["artifact", "file"]);
const INPUT_KEYS = new Set(["artifact", "file", "size", "sha256"]);

function isTaskFiles(value: unknown, withContent: boolean): boolean {
  if (!Array.isArray(value) || value.length > 100) return false;
  const keys = withContent ? INPUT_KEYS : FILE_KEYS;
  for (const item of value) {
    if (!isObject(item) || countKeys(item, keys) !== keys.size) return false;
    if (!isId(item.artifact) || !isFile(item.file)) return false;
    if (
      withContent && (!isCount(item.size) || typeof item.sha256 !== "string" || !SHA256.test(item.sha256))
    ) {
      return false;
    }
  }
  return true;
}

const RESULT_KEYS = new Set(["seq", "taskId", "actionId", "ok", "output", "error", "artifacts", "timings"]);

/** RESULT, as `ResultSchema` with its two rules (a taskId or an actionId; a failed RESULT has an error). */
export function checkResult(value: unknown): PayloadOf<"RESULT"> | null {
  if (!isObject(value) || countKeys(value, RESULT_KEYS) < 0) return null;
  if (!isSeq(value.seq) || typeof value.ok !== "boolean") return null;
  const { taskId, actionId, error, artifacts, timings } = value;
  if (taskId === undefined && actionId === undefined) return null;
  if ((taskId !== undefined && !isId(taskId)) || (actionId !== undefined && !isId(actionId))) return null;
  if (error === undefined ? !value.ok : !isFailure(error)) return null;
  if (artifacts !== undefined && !isTaskFiles(artifacts, true)) return null;
  if (timings !== undefined && !isTimings(timings)) return null;
  return value as PayloadOf<"RESULT">;
}

const EXECUTE_KEYS = new Set([
  "seq",
  "taskId",
  "dagId",
  "nodeId",
  "attempt",
  "kind",
  "goal",
  "steps",
  "inputs",
  "outputs",
  "deadlineMs",
]);

/** EXECUTE_TASK without `steps` (a task with steps is left to the schema and its step union). */
export function checkExecuteTask(value: unknown): PayloadOf<"EXECUTE_TASK"> | null {
  if (!isObject(value) || countKeys(value, EXECUTE_KEYS) < 0 || value.steps !== undefined) return null;
  if (!isSeq(value.seq) || !isId(value.taskId) || !isId(value.dagId) || !isId(value.nodeId)) return null;
  if (!isSeq(value.attempt) || (value.kind !== "script" && value.kind !== "agent")) return null;
  if (value.goal !== undefined && (typeof value.goal !== "string" || value.goal.length > 10_000)) return null;
  if (!isTaskFiles(value.inputs, true) || !isTaskFiles(value.outputs, false)) return null;
  if (!isCount(value.deadlineMs)) return null;
  return value as PayloadOf<"EXECUTE_TASK">;
}

const ERROR_KEYS = new Set(["code", "message", "ref", "retryAfterMs"]);

/** ERROR, as `ErrorSchema`. */
export function checkError(value: unknown): PayloadOf<"ERROR"> | null {
  if (!isObject(value) || countKeys(value, ERROR_KEYS) < 0) return null;
  if (!ERROR_CODES.has(value.code as string)) return null;
  if (typeof value.message !== "string" || value.message.length > 2000) return null;
  const { ref, retryAfterMs } = value;
  if (ref !== undefined && (typeof ref !== "string" || ref.length > 200)) return null;
  if (retryAfterMs !== undefined && (!isCount(retryAfterMs) || (retryAfterMs as number) > 3_600_000)) {
    return null;
  }
  return value as PayloadOf<"ERROR">;
}

const ACTION_TYPE_KEYS = new Set(["seq", "actionId", "taskId", "text"]);

/** ACTION_TYPE, as `ActionTypeSchema`. */
export function checkActionType(value: unknown): PayloadOf<"ACTION_TYPE"> | null {
  if (!isObject(value) || countKeys(value, ACTION_TYPE_KEYS) < 0) return null;
  if (!isSeq(value.seq) || !isId(value.actionId)) return null;
  if (value.taskId !== undefined && !isId(value.taskId)) return null;
  const { text } = value;
  if (typeof text !== "string" || text.length < 1 || text.length > 10_000) return null;
  return value as PayloadOf<"ACTION_TYPE">;
}

/** The precompiled check of each JSON type that has one. */
export const JSON_CHECKS: Partial<Record<MessageType, (value: unknown) => object | null>> = {
  RESULT: checkResult,
  EXECUTE_TASK: checkExecuteTask,
  ERROR: checkError,
  ACTION_TYPE: checkActionType,
};
