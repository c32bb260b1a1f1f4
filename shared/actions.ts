/**
 * Action objects: the one vocabulary for driving a device. The operator action API accepts them,
 * script nodes list them as steps, and the gateway turns each into an ACTION_* wire message.
 */
import { z } from "zod";

const Coord = z.number().int().min(-100_000).max(100_000);

/** A point on the device's screen, in physical pixels. */
export const PointSchema = z.object({ x: Coord, y: Coord });
/** A point on the device's screen. */
export type Point = z.infer<typeof PointSchema>;

/** Mouse buttons the helper can press. */
export const MouseButtonSchema = z.enum(["left", "right", "middle"]);

/** Move the pointer. */
export const MoveActionSchema = z.object({ type: z.literal("move"), x: Coord, y: Coord });
/** Click at a point. */
export const ClickActionSchema = z.object({
  type: z.literal("click"),
  x: Coord,
  y: Coord,
  button: MouseButtonSchema.default("left"),
  double: z.boolean().default(false),
});
/** Press at `from`, move to `to`, release. */
export const DragActionSchema = z.object({
  type: z.literal("drag"),
  from: PointSchema,
  to: PointSchema,
  button: MouseButtonSchema.default("left"),
});
/** Type Unicode text. */
export const TypeActionSchema = z.object({ type: z.literal("type"), text: z.string().min(1).max(10_000) });
/** Press a key combination such as `ctrl+shift+t`. */
export const KeyActionSchema = z.object({
  type: z.literal("key"),
  keys: z.string().min(1).max(200).regex(/^[^\s+]+(\+[^\s+]+)*$/, "keys look like ctrl+shift+t"),
});
/** Scroll by whole notches; positive `dy` scrolls down, positive `dx` right. */
export const ScrollActionSchema = z.object({
  type: z.literal("scroll"),
  dx: z.number().int().min(-1000).max(1000).default(0),
  dy: z.number().int().min(-1000).max(1000).default(0),
});
/** Launch an application by the name the device reported in its capabilities. */
export const LaunchActionSchema = z.object({ type: z.literal("launch"), app: z.string().min(1).max(300) });
/** Capture the screen. */
export const FrameActionSchema = z.object({
  type: z.literal("frame"),
  format: z.enum(["jpeg", "png"]).default("jpeg"),
  /** Scale factor in (0, 1]; the original size is reported with the frame. */
  scale: z.number().gt(0).max(1).default(1),
  quality: z.number().int().min(1).max(100).default(80),
});
/** Wait on the device (scheduler steps only; never sent to the device as an action). */
export const WaitActionSchema = z.object({
  type: z.literal("wait"),
  ms: z.number().int().min(0).max(3_600_000),
});

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
]);
/** Any action a device executes. */
export type DeviceAction = z.infer<typeof DeviceActionSchema>;

/** A script step: a device action or a wait. */
export const StepSchema = z.discriminatedUnion("type", [...DeviceActionSchema.options, WaitActionSchema]);
/** A script step. */
export type Step = z.infer<typeof StepSchema>;

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
} as const satisfies Record<DeviceAction["type"], string>;
