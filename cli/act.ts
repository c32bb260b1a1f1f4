/**
 * `a3 act DEVICE ACTION ARGS…`: the command line of each device action, read from the action schemas in
 * `shared/actions.ts` so it follows them. Required fields are positional arguments in schema order (a point
 * is two numbers; a last text field takes the rest of the words, a list takes the rest as items); fields with
 * a default are flags (`timeoutMs` → `--timeout-ms`).
 */
import type { z } from "zod";
import { type OperatorAction, OperatorActionSchema } from "../shared/actions.ts";
import type { FlagSpec } from "../shared/flags.ts";
import { firstIssue } from "../shared/protocol/errors.ts";

type Kind = "number" | "string" | "boolean" | "list";

/** One positional argument: where it goes in the action object. */
interface Positional {
  path: string[];
  label: string;
  kind: Kind;
}

/** One action's command line. */
export interface ActionForm {
  /** The word on the command line: the action type, kebab-case (`file-info`). */
  word: string;
  type: OperatorAction["type"];
  positionals: Positional[];
  flags: Array<FlagSpec & { key: string; kind: Kind }>;
}

/** What a flag does, by field name; a field not listed is described by its name. */
const FIELD_TEXT: Record<string, string> = {
  button: "Mouse button",
  double: "Double-click",
  dx: "Notches to scroll right, negative for left",
  dy: "Notches to scroll down, negative for up",
  timeoutMs: "Limit in ms (run: stop the program; wait-for, click-text: give up)",
  text: "Wait until this text is on screen (OCR)",
  window: "Wait until a window title contains this",
  file: "Wait until this file in the files dir exists, its size stable",
  screenChange: "Wait until the screen changes",
  occurrence: "Which match to click, 1-based, when there are several",
};

/**
 * The actions `act` offers: every device action but `frame` (its image comes from `a3 frame`), and the steps
 * the server decides by looking (`wait-for`, `click-text`).
 */
export const ACTION_FORMS: readonly ActionForm[] = OperatorActionSchema.options
  .filter((schema) => schema.shape.type.value !== "frame")
  .map((schema) => formOf(schema as unknown as z.ZodObject));

/** Every flag of every action, once each (for the parser and `--help`). */
export const ACT_FLAGS: readonly FlagSpec[] = (() => {
  const seen = new Map<string, { flag: FlagSpec; actions: string[]; defaults: string[] }>();
  for (const form of ACTION_FORMS) {
    for (const { key: _key, kind: _kind, ...flag } of form.flags) {
      const entry = seen.get(flag.name) ?? { flag, actions: [], defaults: [] };
      entry.actions.push(form.word);
      entry.defaults.push(flag.default ?? "none");
      seen.set(flag.name, entry);
    }
  }
  return [...seen.values()].map(({ flag, actions, defaults }) => ({
    ...flag,
    // One default when the actions agree; each action's own when they don't (`--timeout-ms`).
    default: new Set(defaults).size > 1
      ? defaults.map((value, i) => `${value} (${actions[i]})`).join(", ")
      : flag.default,
    description: `${flag.description} (${actions.join(", ")})`,
  }));
})();

/** `move X Y`, `click X Y [--button left|right|middle] [--double]`, … */
export function actionUsage(form: ActionForm): string {
  const positionals = form.positionals.map((p) => p.kind === "list" ? `[${p.label}…]` : p.label);
  const flags = form.flags.map((f) => f.type === "boolean" ? `[--${f.name}]` : `[--${f.name} ${f.value}]`);
  return [form.word, ...positionals, ...flags].join(" ");
}

/** The action the words and flags describe, checked against its schema; or what is wrong. */
export function buildAction(
  words: readonly string[],
  values: Readonly<Record<string, unknown>>,
): { ok: true; action: OperatorAction } | { ok: false; message: string } {
  const [word, ...rest] = words;
  const form = ACTION_FORMS.find((f) => f.word === word || f.type === word);
  if (form === undefined) {
    return {
      ok: false,
      message: `${
        word === undefined ? "An action is required" : `Unknown action ${JSON.stringify(word)}`
      }: use ${ACTION_FORMS.map((f) => f.word).join(", ")}`,
    };
  }
  const usage = `usage: act DEVICE ${actionUsage(form)}`;
  const action: Record<string, unknown> = { type: form.type };
  let index = 0;
  for (const [i, positional] of form.positionals.entries()) {
    const last = i === form.positionals.length - 1;
    let value: unknown;
    if (positional.kind === "list") {
      value = rest.slice(index);
      index = rest.length;
    } else if (index >= rest.length) {
      return { ok: false, message: `Missing ${positional.label} for ${form.word}; ${usage}` };
    } else if (positional.kind === "string" && last) {
      value = rest.slice(index).join(" ");
      index = rest.length;
    } else {
      value = rest[index++];
      if (positional.kind === "number") {
        const number = Number(value);
        if (value === "" || !Number.isFinite(number)) {
          return { ok: false, message: `${positional.label} must be a number, not ${JSON.stringify(value)}` };
        }
        value = number;
      }
    }
    setPath(action, positional.path, value);
  }
  if (index < rest.length) {
    return {
      ok: false,
      message: `Too many arguments for ${form.word}: ${rest.slice(index).join(" ")}; ${usage}`,
    };
  }
  for (const flag of ACT_FLAGS) {
    if (values[flag.name] === undefined) continue;
    const own = form.flags.find((f) => f.name === flag.name);
    if (own === undefined) {
      return { ok: false, message: `--${flag.name} does not apply to ${form.word}; ${usage}` };
    }
    const raw = values[own.name];
    if (own.kind === "number") {
      const number = Number(raw);
      if (raw === "" || !Number.isFinite(number)) {
        return { ok: false, message: `--${own.name} must be a number, not ${JSON.stringify(raw)}` };
      }
      action[own.key] = number;
    } else {
      action[own.key] = raw;
    }
  }
  const parsed = OperatorActionSchema.safeParse(action);
  if (!parsed.success) {
    return { ok: false, message: `Invalid ${form.word}: ${firstIssue(parsed.error)}` };
  }
  return { ok: true, action: parsed.data };
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
  node[path.at(-1)!] = value;
}

/** What kind of command-line value a schema takes; null when the CLI cannot express it. */
function kindOf(schema: z.ZodType): Kind | null {
  const type = (schema as unknown as { def: { type: string } }).def.type;
  if (type === "number") return "number";
  if (type === "string" || type === "enum") return "string";
  if (type === "boolean") return "boolean";
  if (type === "array") return "list";
  // `screenChange: true`: a flag that is either given or not.
  if (type === "literal" && (schema as unknown as { def: { values: unknown[] } }).def.values[0] === true) {
    return "boolean";
  }
  return null;
}

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function formOf(schema: z.ZodObject): ActionForm {
  const type = (schema.shape.type as unknown as { value: OperatorAction["type"] }).value;
  const form: ActionForm = { word: kebab(type), type, positionals: [], flags: [] };
  for (const [key, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
    if (key === "type") continue;
    const def =
      (field as unknown as { def: { type: string; innerType?: z.ZodType; defaultValue?: unknown } }).def;
    if (def.type === "object") {
      // A point: its coordinates are positional, in order (`drag FROM_X FROM_Y TO_X TO_Y`).
      for (const inner of Object.keys((field as unknown as z.ZodObject).shape)) {
        form.positionals.push({ path: [key, inner], label: `${key}_${inner}`.toUpperCase(), kind: "number" });
      }
      continue;
    }
    if (def.type === "default" || def.type === "optional") {
      const inner = def.innerType!;
      const kind = kindOf(inner);
      if (kind === "list") {
        form.positionals.push({ path: [key], label: key.toUpperCase(), kind });
        continue;
      }
      if (kind === null) continue;
      const options = (inner as unknown as { options?: string[] }).options;
      form.flags.push({
        key,
        kind,
        name: kebab(key),
        type: kind === "boolean" ? "boolean" : "string",
        value: options ? options.join("|") : kind === "number" ? "N" : "TEXT",
        default: def.type === "default" ? String(def.defaultValue) : undefined,
        description: FIELD_TEXT[key] ?? kebab(key).replaceAll("-", " "),
      });
      continue;
    }
    const kind = kindOf(field);
    if (kind !== null) form.positionals.push({ path: [key], label: key.toUpperCase(), kind });
  }
  return form;
}
