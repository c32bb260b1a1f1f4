/**
 * The model's tools: one per action type the Brain may take (`move`, `click`, `drag`, `type`, `key`,
 * `scroll`, `launch`, `wait`, `clickText`, `waitFor`), whose arguments are that action object without
 * `type`, plus `done {summary}` and `fail {reason}`. Arguments are checked with the same zod schemas as a
 * script's steps; coordinates the model gives are pixels of the image it saw and are mapped back to the
 * device's pixels here.
 */
import { z } from "zod";
import {
  ClickActionSchema,
  ClickTextStepSchema,
  DragActionSchema,
  KeyActionSchema,
  LaunchActionSchema,
  MoveActionSchema,
  ScrollActionSchema,
  type Step,
  TypeActionSchema,
  WaitActionSchema,
  WaitForStepSchema,
} from "../../shared/actions.ts";
import type { ToolSpec } from "./llm.ts";

const ACTION_TOOLS = {
  move: { schema: MoveActionSchema, description: "Move the pointer to (x, y), in pixels of the screenshot." },
  click: {
    schema: ClickActionSchema,
    description:
      "Click at (x, y), in pixels of the screenshot; button left/right/middle, double for a double click.",
  },
  drag: {
    schema: DragActionSchema,
    description: "Press at `from`, move to `to`, release (screenshot pixels).",
  },
  type: { schema: TypeActionSchema, description: "Type text with the keyboard into whatever has the focus." },
  key: { schema: KeyActionSchema, description: "Press a key combination such as enter, ctrl+s or alt+f4." },
  scroll: {
    schema: ScrollActionSchema,
    description: "Scroll by notches: positive dy down, positive dx right.",
  },
  launch: { schema: LaunchActionSchema, description: "Start an application by the name the device lists." },
  wait: { schema: WaitActionSchema, description: "Wait `ms` milliseconds for the screen to settle." },
  clickText: {
    schema: ClickTextStepSchema,
    description:
      "Find a text on the screen (by OCR) and click the middle of it; give occurrence if it is there more than once.",
  },
  waitFor: {
    schema: WaitForStepSchema,
    description:
      "Wait until exactly one of: text on screen, a window title containing `window`, a file in the files folder, or screenChange: true.",
  },
} as const;

/** The action tools' names, in the order offered. */
export const ACTION_TOOL_NAMES = Object.keys(ACTION_TOOLS) as Array<keyof typeof ACTION_TOOLS>;

const DoneSchema = z.object({ summary: z.string().min(1).max(2000) });
const FailSchema = z.object({ reason: z.string().min(1).max(2000) });

/** Every tool the agent offers the model. */
export function agentTools(): ToolSpec[] {
  const tools: ToolSpec[] = ACTION_TOOL_NAMES.map((name) => {
    const { schema, description } = ACTION_TOOLS[name];
    return { name, description, parameters: parametersOf(schema, "type") };
  });
  tools.push({
    name: "done",
    description: "The goal is reached: say what was done.",
    parameters: parametersOf(DoneSchema),
  });
  tools.push({
    name: "fail",
    description: "The goal cannot be reached: say why.",
    parameters: parametersOf(FailSchema),
  });
  return tools;
}

/**
 * A JSON schema for tool arguments (without `omit`, the action's own `type`), without `$schema`, and without
 * the schemas' field descriptions (written for DAG authors, in device pixels): they would add ~600 tokens to
 * every agent turn, and the tool's own description says what the model needs.
 */
function parametersOf(schema: z.ZodType, omit?: string): Record<string, unknown> {
  const json = z.toJSONSchema(schema, {
    io: "input",
    unrepresentable: "any",
    override: ({ jsonSchema }) => void delete jsonSchema.description,
  }) as {
    $schema?: string;
    properties?: Record<string, unknown>;
    required?: string[];
  };
  delete json.$schema;
  if (omit !== undefined) {
    delete json.properties?.[omit];
    json.required = json.required?.filter((key) => key !== omit);
  }
  return json as Record<string, unknown>;
}

/** What a tool call means. */
export type Decision =
  | { kind: "step"; step: Step }
  | { kind: "done"; summary: string }
  | { kind: "fail"; reason: string };

/** How to map the screenshot's pixels to the device's. */
export interface Scale {
  /** Device pixels per screenshot pixel, horizontally and vertically. */
  x: number;
  y: number;
}

/** Reads one tool call; the error says what is wrong, in words the model can act on. */
export function decide(
  name: string,
  argumentsText: string,
  scale: Scale,
): { ok: true; decision: Decision } | { ok: false; error: string } {
  let args: unknown;
  try {
    args = argumentsText.trim() === "" ? {} : JSON.parse(argumentsText);
  } catch (error) {
    return { ok: false, error: `the arguments of ${name} are not JSON: ${(error as Error).message}` };
  }
  if (typeof args !== "object" || args === null || Array.isArray(args)) {
    return { ok: false, error: `the arguments of ${name} must be a JSON object` };
  }
  if (name === "done" || name === "fail") {
    const parsed = (name === "done" ? DoneSchema : FailSchema).safeParse(args);
    if (!parsed.success) return { ok: false, error: issues(name, parsed.error) };
    return {
      ok: true,
      decision: name === "done"
        ? { kind: "done", summary: (parsed.data as { summary: string }).summary }
        : { kind: "fail", reason: (parsed.data as { reason: string }).reason },
    };
  }
  if (!(name in ACTION_TOOLS)) {
    return {
      ok: false,
      error: `there is no tool ${name}; the tools are ${[...ACTION_TOOL_NAMES, "done", "fail"].join(", ")}`,
    };
  }
  const tool = ACTION_TOOLS[name as keyof typeof ACTION_TOOLS];
  const parsed = tool.schema.safeParse({ ...args, type: name });
  if (!parsed.success) return { ok: false, error: issues(name, parsed.error) };
  return { ok: true, decision: { kind: "step", step: toDevice(parsed.data as Step, scale) } };
}

function issues(name: string, error: z.ZodError): string {
  return `invalid arguments for ${name}: ` +
    error.issues.map((i) => `${i.path.length ? `${i.path.join(".")}: ` : ""}${i.message}`).join("; ");
}

/** The step with its screenshot coordinates turned into device pixels. */
export function toDevice(step: Step, scale: Scale): Step {
  const point = (p: { x: number; y: number }) => ({
    x: Math.round(p.x * scale.x),
    y: Math.round(p.y * scale.y),
  });
  switch (step.type) {
    case "move":
    case "click":
      return { ...step, ...point(step) };
    case "drag":
      return { ...step, from: point(step.from), to: point(step.to) };
    default:
      return step;
  }
}
