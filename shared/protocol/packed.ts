/**
 * Packed payloads (protocol version 2): the hot fixed-shape messages travel as a fixed binary layout
 * instead of JSON. The zod schema stays the source of truth: a packed payload decodes to exactly the
 * object the schema would return for the same message in JSON, the checks below are the schema's rules
 * written out, and when one fails the schema is asked for the error message. `PACKED_LAYOUTS` is the
 * layout table PROTOCOL.md prints; `packed_test.ts` holds the code below to it.
 *
 * Field kinds: `u64` an unsigned big-endian integer of 8 bytes (at most 2^53 − 1), `i32` a signed
 * big-endian integer of 4 bytes, `u8` one byte, `str` a u16 big-endian byte count and that many bytes of
 * UTF-8, `str?` the same where a count of 0 means the field is absent.
 */
import type { z } from "zod";
import { err, ok, type Result } from "../result.ts";
import { type ProtocolError, protocolError, schemaViolation } from "./errors.ts";
import { readU32, readU64, writeU64 } from "./header.ts";
import type { FrameSlab } from "./frame_slab.ts";
import { MessageTypes, type PayloadInputOf, type PayloadOf } from "./messages.ts";
import { readUtf8, writeUtf8 } from "./utf8.ts";

/** How a packed field is laid out. */
export type PackedKind = "u64" | "i32" | "u8" | "str" | "str?";

/** One field of a packed layout, in wire order. */
export interface PackedField {
  name: string;
  kind: PackedKind;
  /** What the bytes mean, for PROTOCOL.md. */
  meaning: string;
}

/** Mouse buttons by their byte in ACTION_CLICK. */
export const BUTTON_CODES = ["left", "right", "middle"] as const;

/** The layout of each packed type, in wire order. */
export const PACKED_LAYOUTS = {
  PING: [
    { name: "id", kind: "u64", meaning: "the PING id" },
    { name: "sentAtMs", kind: "u64", meaning: "server clock when sent, Unix ms" },
  ],
  PONG: [{ name: "id", kind: "u64", meaning: "the id of the PING answered" }],
  SEQ_ACK: [{ name: "seq", kind: "u64", meaning: "cumulative acknowledgement" }],
  TASK_ACCEPTED: [
    { name: "seq", kind: "u64", meaning: "reliable sequence number, ≥ 1" },
    { name: "taskId", kind: "str", meaning: "the task" },
  ],
  FINISH_TASK: [
    { name: "seq", kind: "u64", meaning: "reliable sequence number, ≥ 1" },
    { name: "taskId", kind: "str", meaning: "the task" },
  ],
  ACTION_MOVE: [
    { name: "seq", kind: "u64", meaning: "reliable sequence number, ≥ 1" },
    { name: "x", kind: "i32", meaning: "pointer x" },
    { name: "y", kind: "i32", meaning: "pointer y" },
    { name: "actionId", kind: "str", meaning: "the action" },
    { name: "taskId", kind: "str?", meaning: "the task, or absent (count 0)" },
  ],
  ACTION_CLICK: [
    { name: "seq", kind: "u64", meaning: "reliable sequence number, ≥ 1" },
    { name: "x", kind: "i32", meaning: "click point x" },
    { name: "y", kind: "i32", meaning: "click point y" },
    { name: "button", kind: "u8", meaning: "0 `left`, 1 `right`, 2 `middle`" },
    { name: "double", kind: "u8", meaning: "0 `false`, 1 `true`" },
    { name: "actionId", kind: "str", meaning: "the action" },
    { name: "taskId", kind: "str?", meaning: "the task, or absent (count 0)" },
  ],
} as const satisfies Record<string, readonly PackedField[]>;

/** A message type with a packed payload. */
export type PackedType = keyof typeof PACKED_LAYOUTS;

const MAX_ID_CHARS = 128;
const MAX_COORD = 100_000;
const MAX_STR_BYTES = 0xffff;

// ---- encoding -------------------------------------------------------------------------------------

function u64(type: PackedType, field: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`Cannot encode ${type}: ${field} ${value} is not an integer in 0..2^53-1`);
  }
  return value;
}

function i32(type: PackedType, field: string, value: number): number {
  if (!Number.isInteger(value) || value < -0x8000_0000 || value > 0x7fff_ffff) {
    throw new RangeError(`Cannot encode ${type}: ${field} ${value} is not a 32-bit integer`);
  }
  return value;
}

function writeI32(target: Uint8Array, offset: number, value: number): void {
  target[offset] = value >>> 24;
  target[offset + 1] = value >>> 16;
  target[offset + 2] = value >>> 8;
  target[offset + 3] = value;
}

/** Writes a `str` field at `offset` (room for `3 * text.length + 2` bytes); returns the offset after it. */
function writeStr(type: PackedType, field: string, target: Uint8Array, offset: number, text: string): number {
  const bytes = writeUtf8(target, offset + 2, text);
  if (bytes > MAX_STR_BYTES) {
    throw new RangeError(
      `Cannot encode ${type}: ${field} is ${bytes} bytes of UTF-8, at most ${MAX_STR_BYTES}`,
    );
  }
  target[offset] = bytes >>> 8;
  target[offset + 1] = bytes;
  return offset + 2 + bytes;
}

/** Room a `str` field may need. */
function strRoom(text: string | undefined): number {
  return text === undefined ? 2 : 2 + text.length * 3;
}

/**
 * Writes the packed payload of `type` into `slab` after a header of `headerBytes` it leaves to the
 * caller; returns the payload's byte length. Throws a `RangeError` for a value the layout cannot carry (a
 * sender's bug: senders build payloads from validated data).
 */
export function writePacked<T extends PackedType>(
  type: T,
  payload: PayloadInputOf<T>,
  slab: FrameSlab,
  headerBytes: number,
): number {
  switch (type) {
    case "PING": {
      const p = payload as PayloadInputOf<"PING">;
      slab.reserve(headerBytes + 16);
      const at = slab.offset + headerBytes;
      writeU64(slab.bytes, at, u64(type, "id", p.id));
      writeU64(slab.bytes, at + 8, u64(type, "sentAtMs", p.sentAtMs));
      return 16;
    }
    case "PONG":
    case "SEQ_ACK": {
      const value = type === "PONG"
        ? (payload as PayloadInputOf<"PONG">).id
        : (payload as PayloadInputOf<"SEQ_ACK">).seq;
      slab.reserve(headerBytes + 8);
      writeU64(slab.bytes, slab.offset + headerBytes, u64(type, type === "PONG" ? "id" : "seq", value));
      return 8;
    }
    case "TASK_ACCEPTED":
    case "FINISH_TASK": {
      const p = payload as PayloadInputOf<"TASK_ACCEPTED">;
      slab.reserve(headerBytes + 8 + strRoom(p.taskId));
      const start = slab.offset + headerBytes;
      writeU64(slab.bytes, start, u64(type, "seq", p.seq));
      return writeStr(type, "taskId", slab.bytes, start + 8, p.taskId) - start;
    }
    case "ACTION_MOVE":
    case "ACTION_CLICK": {
      const p = payload as PayloadInputOf<"ACTION_CLICK">;
      const click = type === "ACTION_CLICK";
      slab.reserve(headerBytes + 18 + strRoom(p.actionId) + strRoom(p.taskId));
      const bytes = slab.bytes;
      const start = slab.offset + headerBytes;
      writeU64(bytes, start, u64(type, "seq", p.seq));
      writeI32(bytes, start + 8, i32(type, "x", p.x));
      writeI32(bytes, start + 12, i32(type, "y", p.y));
      let at = start + 16;
      if (click) {
        const button = BUTTON_CODES.indexOf(p.button ?? "left");
        if (button < 0) throw new RangeError(`Cannot encode ${type}: button ${p.button} is not a button`);
        bytes[at] = button;
        bytes[at + 1] = p.double ? 1 : 0;
        at += 2;
      }
      at = writeStr(type, "actionId", bytes, at, p.actionId);
      if (p.taskId === "") throw new RangeError(`Cannot encode ${type}: taskId is empty`);
      if (p.taskId === undefined) {
        bytes[at] = 0;
        bytes[at + 1] = 0;
        at += 2;
      } else at = writeStr(type, "taskId", bytes, at, p.taskId);
      return at - start;
    }
  }
  throw new TypeError(`${type} has no packed layout`);
}

// ---- decoding -------------------------------------------------------------------------------------

/** A decoded packed payload, or why not. */
export type PackedResult<T extends PackedType> = Result<PayloadOf<T>, ProtocolError>;

function structure(type: PackedType, detail: string): { ok: false; error: ProtocolError } {
  return err(protocolError("schema-violation", `${type} payload: ${detail}`, type));
}

/**
 * The candidate object failed a check: the schema names the first failing field (as it does for JSON).
 * `raw` holds the values as read, so the message is the one the same JSON payload would get.
 */
function refused(type: PackedType, raw: Record<string, unknown>): { ok: false; error: ProtocolError } {
  const schema = MessageTypes[type].schema as z.ZodType;
  const parsed = schema.safeParse(raw);
  return parsed.success
    ? structure(type, "a field is out of range")
    : err(schemaViolation(type, parsed.error));
}

/** Reads a u64 for the error path: the value as a (possibly inexact) number even beyond 2^53 − 1. */
function looseU64(bytes: Uint8Array, offset: number): number {
  return readU32(bytes, offset) * 0x1_0000_0000 + readU32(bytes, offset + 4);
}

function readI32(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3];
}

const isId = (value: string) => value.length >= 1 && value.length <= MAX_ID_CHARS;
const isCoord = (value: number) => value >= -MAX_COORD && value <= MAX_COORD;

/** Where a `str` field ended, and its text; a negative `end` says what was wrong. */
let strText = "";

/**
 * Reads a `str` field at `at` (before `end`) into `strText`; returns the offset after it, -1 when its
 * count overruns the payload, -2 when its bytes are not UTF-8.
 */
function readStr(bytes: Uint8Array, at: number, end: number): number {
  if (at + 2 > end) return -1;
  const length = (bytes[at] << 8) | bytes[at + 1];
  const stop = at + 2 + length;
  if (stop > end) return -1;
  const text = readUtf8(bytes, at + 2, stop);
  if (text === null) return -2;
  strText = text;
  return stop;
}

function strFailure(type: PackedType, field: string, code: number): { ok: false; error: ProtocolError } {
  return structure(type, code === -1 ? `${field} overruns the payload` : `${field} is not UTF-8`);
}

function exact(type: PackedType, need: number, have: number): { ok: false; error: ProtocolError } {
  return structure(type, `${have} bytes, the layout needs ${need}`);
}

/** Decodes the packed payload of `type` in `bytes[start..end)`; never throws. */
export function readPacked<T extends PackedType>(
  type: T,
  bytes: Uint8Array,
  start: number,
  end: number,
): PackedResult<T> {
  return readAny(type, bytes, start, end) as PackedResult<T>;
}

function readAny(type: PackedType, bytes: Uint8Array, start: number, end: number): PackedResult<PackedType> {
  const length = end - start;
  switch (type) {
    case "PING": {
      if (length !== 16) return exact(type, 16, length);
      const id = readU64(bytes, start);
      const sentAtMs = readU64(bytes, start + 8);
      if (id < 0 || sentAtMs < 0) {
        return refused(type, { id: looseU64(bytes, start), sentAtMs: looseU64(bytes, start + 8) });
      }
      return ok({ id, sentAtMs });
    }
    case "PONG": {
      if (length !== 8) return exact(type, 8, length);
      const id = readU64(bytes, start);
      return id < 0 ? refused(type, { id: looseU64(bytes, start) }) : ok({ id });
    }
    case "SEQ_ACK": {
      if (length !== 8) return exact(type, 8, length);
      const seq = readU64(bytes, start);
      return seq < 0 ? refused(type, { seq: looseU64(bytes, start) }) : ok({ seq });
    }
    case "TASK_ACCEPTED":
    case "FINISH_TASK": {
      if (length < 10) return exact(type, 10, length);
      const seq = readU64(bytes, start);
      const after = readStr(bytes, start + 8, end);
      if (after < 0) return strFailure(type, "taskId", after);
      if (after !== end) return exact(type, after - start, length);
      const taskId = strText;
      if (seq < 1 || !isId(taskId)) return refused(type, { seq: looseU64(bytes, start), taskId });
      return ok({ seq, taskId });
    }
    case "ACTION_MOVE":
    case "ACTION_CLICK": {
      const click = type === "ACTION_CLICK";
      const fixed = click ? 22 : 20;
      if (length < fixed) return exact(type, fixed, length);
      const seq = readU64(bytes, start);
      const x = readI32(bytes, start + 8);
      const y = readI32(bytes, start + 12);
      let at = start + 16;
      let buttonCode = 0;
      let doubleCode = 0;
      if (click) {
        buttonCode = bytes[at];
        doubleCode = bytes[at + 1];
        at += 2;
      }
      at = readStr(bytes, at, end);
      if (at < 0) return strFailure(type, "actionId", at);
      const actionId = strText;
      const taskIdAt = at;
      at = readStr(bytes, at, end);
      if (at < 0) return strFailure(type, "taskId", at);
      if (at !== end) return exact(type, at - start, length);
      const taskId = at === taskIdAt + 2 ? undefined : strText;
      const valid = seq >= 1 && isCoord(x) && isCoord(y) && isId(actionId) &&
        (taskId === undefined || isId(taskId)) && buttonCode <= 2 && doubleCode <= 1;
      if (!valid) {
        const raw: Record<string, unknown> = { seq: looseU64(bytes, start), actionId, x, y };
        if (taskId !== undefined) raw.taskId = taskId;
        if (click) {
          raw.button = BUTTON_CODES[buttonCode] ?? buttonCode;
          raw.double = doubleCode === 0 ? false : doubleCode === 1 ? true : doubleCode;
        }
        return refused(type, raw);
      }
      if (click) {
        // One object literal per shape (no property added later: V8 keeps one hidden class).
        const button = BUTTON_CODES[buttonCode];
        const double = doubleCode === 1;
        return ok(
          taskId === undefined
            ? { seq, actionId, x, y, button, double }
            : { seq, actionId, x, y, button, double, taskId } satisfies PayloadOf<"ACTION_CLICK">,
        );
      }
      return ok(
        taskId === undefined
          ? { seq, actionId, x, y }
          : { seq, actionId, x, y, taskId } satisfies PayloadOf<"ACTION_MOVE">,
      );
    }
  }
}
