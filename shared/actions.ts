/**
 * Action objects: the one vocabulary for driving a device. The operator action API accepts them,
 * script nodes list them as steps, and the gateway turns each into an ACTION_* wire message.
 */
import { z } from "zod";

const Coord = z.number().int().min(-100_000).max(100_000);
const X = Coord.describe("Pixels from the screen's left edge.");
const Y = Coord.describe("Pixels from the screen's top edge.");

/** A point on the device's screen, in physical pixels. */
export const PointSchema = z.object({ x: X, y: Y });
/** A point on the device's screen. */
export type Point = z.infer<typeof PointSchema>;

/** Mouse buttons the helper can press. */
export const MouseButtonSchema = z.enum(["left", "right", "middle"]);
const Button = MouseButtonSchema.default("left").describe("Mouse button: left, right or middle.");
const Double = z.boolean().default(false).describe("true for a double click.");

/** Move the pointer. */
export const MoveActionSchema = z.object({ type: z.literal("move"), x: X, y: Y })
  .describe("Move the pointer to (x, y).");
/** Click at a point. */
export const ClickActionSchema = z.object({
  type: z.literal("click"),
  x: X,
  y: Y,
  button: Button,
  double: Double,
}).describe("Click at (x, y).");
/** Press at `from`, move to `to`, release. */
export const DragActionSchema = z.object({
  type: z.literal("drag"),
  from: PointSchema.describe("Where the button goes down: {x, y}."),
  to: PointSchema.describe("Where it is released: {x, y}."),
  button: Button,
}).describe("Press at `from`, move to `to`, release.");
/** Type Unicode text. */
export const TypeActionSchema = z.object({
  type: z.literal("type"),
  text: z.string().min(1).max(10_000).describe("The text, typed into whatever has the keyboard focus."),
}).describe("Type Unicode text.");
/** Press a key combination such as `ctrl+shift+t`. */
export const KeyActionSchema = z.object({
  type: z.literal("key"),
  keys: z.string().min(1).max(200).regex(/^[^\s+]+(\+[^\s+]+)*$/, "keys look like ctrl+shift+t")
    .describe("Key names joined by '+': enter, ctrl+s, ctrl+shift+t, alt+f4."),
}).describe("Press a key combination.");
/** Scroll by whole notches; positive `dy` scrolls down, positive `dx` right. */
export const ScrollActionSchema = z.object({
  type: z.literal("scroll"),
  dx: z.number().int().min(-1000).max(1000).default(0).describe("Notches to the right (negative: left)."),
  dy: z.number().int().min(-1000).max(1000).default(0).describe("Notches down (negative: up)."),
}).describe("Scroll by whole notches.");
/** Launch an application by the name the device reported in its capabilities. */
export const LaunchActionSchema = z.object({
  type: z.literal("launch"),
  app: z.string().min(1).max(300).describe("An application name from the device's capabilities (`apps`)."),
}).describe("Start an application.");
/** Capture the screen. */
export const FrameActionSchema = z.object({
  type: z.literal("frame"),
  format: z.enum(["jpeg", "png"]).default("jpeg").describe("Image format: jpeg or png."),
  /** Scale factor in (0, 1]; the original size is reported with the frame. */
  scale: z.number().gt(0).max(1).default(1).describe("Scale factor in (0, 1]; 0.5 halves width and height."),
  quality: z.number().int().min(1).max(100).default(80).describe("JPEG quality, 1-100."),
}).describe("Capture the screen (the step log keeps the image).");
/** Wait on the device (scheduler steps only; never sent to the device as an action). */
export const WaitActionSchema = z.object({
  type: z.literal("wait"),
  ms: z.number().int().min(0).max(3_600_000).describe("How long to wait, in milliseconds."),
}).describe("Pause (on the server; the device is not asked).");

/**
 * Run a program on the device, with the files directory as its working directory; stdout and stderr (each
 * capped) and the exit code come back in the RESULT. A device runs programs only when started with
 * `--allow-run` (`run-not-allowed` otherwise); a non-zero exit fails the step with `run-failed`.
 */
export const RunActionSchema = z.object({
  type: z.literal("run"),
  command: z.string().min(1).max(1024).describe("The program (found on the device's PATH), e.g. sh."),
  args: z.array(z.string().max(32_768)).max(1000).default([]).describe("Its arguments, one string each."),
  /** Killed after this long (default 60 s): the step fails with `timeout`. */
  timeoutMs: z.number().int().min(1).max(3_600_000).default(60_000)
    .describe("The program is killed after this long and the step fails with timeout."),
}).describe("Run a program in the device's files directory (the client needs --allow-run).");
/** List the device's top-level windows (their titles; position and size where known). */
export const WindowsActionSchema = z.object({ type: z.literal("windows") })
  .describe("List the device's top-level windows.");
/** Size and modification time of a file in the device's files directory (`exists: false` if missing). */
export const FileInfoActionSchema = z.object({
  type: z.literal("fileInfo"),
  path: z.string().min(1).max(1024).describe("A path relative to the device's files directory."),
}).describe("Whether a file exists in the files directory, its size and modification time.");

/** Any action a device executes. */
export const DeviceActionSchema = z.discriminatedUnion("type", [
  MoveActionSchema,
  ClickActionSchema,
  DragActionSchema,
  TypeActionSchema,
  KeyActionSchema,
  ScrollActionSchema,
  LaunchActionSchema,
  FrameActionSchema,
  RunActionSchema,
  WindowsActionSchema,
  FileInfoActionSchema,
]);
/** Any action a device executes. */
export type DeviceAction = z.infer<typeof DeviceActionSchema>;

/** The conditions `waitFor` knows; a step names exactly one. */
const WAIT_CONDITIONS = ["text", "window", "file", "screenChange"] as const;

/** Default time a `waitFor` waits before it fails with `condition-timeout`, and a `clickText` looks. */
export const DEFAULT_WAIT_TIMEOUT_MS = 15_000;

/**
 * Wait until a condition holds: `text` is on screen (case-insensitive, whitespace-normalised, a phrase may
 * span adjacent words), a top-level `window` title contains a string, a `file` in the files directory exists
 * and its size is stable, or the screen changed (`screenChange`) since the frame before the previous step.
 * Fails with `condition-timeout` naming the condition after `timeoutMs`.
 */
export const WaitForStepSchema = z.object({
  type: z.literal("waitFor"),
  text: z.string().min(1).max(500).optional()
    .describe("Condition: this text is on screen (OCR; case-insensitive, may span adjacent words)."),
  window: z.string().min(1).max(500).optional()
    .describe("Condition: a top-level window whose title contains this."),
  file: z.string().min(1).max(1024).optional()
    .describe("Condition: this file in the files directory exists and kept its size between two looks."),
  screenChange: z.literal(true).optional()
    .describe("Condition: the screen differs from the frame before the previous step."),
  timeoutMs: z.number().int().min(1).max(3_600_000).default(DEFAULT_WAIT_TIMEOUT_MS)
    .describe("Give up after this long: the step fails with condition-timeout."),
}).refine(
  (step) => WAIT_CONDITIONS.filter((key) => step[key] !== undefined).length === 1,
  { message: `waitFor names exactly one condition: ${WAIT_CONDITIONS.join(", ")}` },
).describe("Wait until exactly one condition holds: text, window, file or screenChange.");
/**
 * Find `text` on screen and click the centre of its box. No match, or more than one, within `timeoutMs`
 * fails with `text-not-found` (saying what was seen); `occurrence` (1-based, reading order) picks one of several.
 */
export const ClickTextStepSchema = z.object({
  type: z.literal("clickText"),
  text: z.string().min(1).max(500).describe("The text to find on screen (OCR) and click."),
  button: Button,
  double: Double,
  occurrence: z.number().int().min(1).max(100).optional()
    .describe("Which match to click, 1-based in reading order, when the text is there more than once."),
  timeoutMs: z.number().int().min(0).max(3_600_000).default(5_000)
    .describe("How long to keep looking before the step fails with text-not-found."),
}).describe("Find a text on screen and click the centre of its box.");

/** A script step: a device action, a wait, or a step that looks at the screen first (`waitFor`, `clickText`). */
export const StepSchema = z.discriminatedUnion("type", [
  ...DeviceActionSchema.options,
  WaitActionSchema,
  WaitForStepSchema,
  ClickTextStepSchema,
]);
/** A script step. */
export type Step = z.infer<typeof StepSchema>;

/**
 * What an operator may ask of a device at once (`POST /api/devices/:id/actions`): any device action, and the
 * steps the server decides by looking first (`waitFor`, `clickText`). A `wait` is not one: it would only hold
 * the request open.
 */
export const OperatorActionSchema = z.discriminatedUnion("type", [
  ...DeviceActionSchema.options,
  WaitForStepSchema,
  ClickTextStepSchema,
]);
/** An operator's action. */
export type OperatorAction = z.infer<typeof OperatorActionSchema>;

/** Maps an action's `type` to the wire message that carries it. */
export const ACTION_MESSAGE = {
  move: "ACTION_MOVE",
  click: "ACTION_CLICK",
  drag: "ACTION_DRAG",
  type: "ACTION_TYPE",
  key: "ACTION_KEY",
  scroll: "ACTION_SCROLL",
  launch: "ACTION_LAUNCH",
  frame: "REQUEST_FRAME",
  run: "ACTION_RUN",
  windows: "REQUEST_WINDOWS",
  fileInfo: "REQUEST_FILE_INFO",
} as const satisfies Record<DeviceAction["type"], string>;
