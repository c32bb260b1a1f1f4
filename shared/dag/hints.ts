/**
 * Help for DAG authors: a schema issue about an unknown field or an unknown `kind`/`type` becomes one issue
 * per field, naming the field (`nodes.1.dependsOn`), the right one when the mistake is a common one
 * (`dependsOn` → `after`, `timeout` → `timeoutMs`, a step type written as a node field, ...) or a near
 * spelling, and otherwise the fields that are allowed there.
 */
import { DagSchema, DagStepSchema, NodeSchema, RequirementsTargetSchema, RetrySchema } from "./schema.ts";

/** One explained issue: where (dotted path), what is wrong, and the field or value to use instead. */
export interface ExplainedIssue {
  path: PropertyKey[];
  message: string;
  suggestion?: string;
  /** The zod issue itself (its path made absolute) when it needed no explaining. */
  issue?: SchemaIssue;
}

/** A zod issue, as far as the explanation reads it. */
export interface SchemaIssue {
  code: string;
  path: PropertyKey[];
  message: string;
  params?: Record<string, unknown>;
  expected?: string;
  keys?: string[];
  note?: string;
  options?: unknown[];
  /** For `invalid_union`: each alternative's issues, paths relative to the union. */
  errors?: SchemaIssue[][];
}

/** A known mistake: the field to use and how it is written. */
interface Hint {
  use: string;
  how: string;
}

const hint = (use: string, how: string, ...names: string[]) =>
  Object.fromEntries(names.map((name) => [name, { use, how }])) as Record<string, Hint>;

const STEP_TYPES = DagStepSchema.options.map((option) => option.shape.type.value);

const DAG_HINTS: Record<string, Hint> = {
  ...hint("name", 'a DAG is named by "name"', "title", "label", "dagName"),
  ...hint("nodes", 'the work is "nodes": [{"id", "kind", ...}]', "tasks", "steps", "graph", "jobs", "node"),
};

const NODE_HINTS: Record<string, Hint> = {
  ...hint(
    "after",
    'dependencies are "after": ["node-id", ...]',
    "dependsOn",
    "depends_on",
    "dependencies",
    "depends",
    "deps",
    "needs",
    "requires",
    "parents",
    "upstream",
    "waitsOn",
  ),
  ...hint(
    "target",
    'the device goes in "target": {"device": "name-or-id"}',
    "device",
    "deviceName",
    "device_name",
    "deviceId",
    "device_id",
    "runsOn",
    "runs_on",
    "on",
    "host",
  ),
  ...hint(
    "target",
    'requirements go in "target": {"os", "apps", "tags", "input", "run"}',
    "os",
    "apps",
    "tags",
    "requirements",
  ),
  ...hint(
    "timeoutMs",
    '"timeoutMs" is in milliseconds',
    "timeout",
    "timeout_ms",
    "timeoutMS",
    "deadline",
    "deadlineMs",
  ),
  ...hint(
    "retry",
    'retries are "retry": {"attempts": 3, "backoffMs": 1000} (attempts counts the first try)',
    "retries",
    "maxRetries",
    "max_retries",
    "retryCount",
    "attempts",
    "retryPolicy",
  ),
  ...hint("kind", 'a node\'s kind is "kind": "script", "agent" or "server" ("type" is for steps)', "type"),
  ...hint("id", 'a node is named by its "id"', "name", "title", "nodeId"),
  ...hint(
    "steps",
    'a script node\'s steps are "steps": [{"type": "click", ...}, ...]',
    "actions",
    "commands",
  ),
  ...hint("inputs", '"inputs": [{"artifact", "file"}]', "input"),
  ...hint("outputs", '"outputs": [{"artifact", "file"}]', "output", "artifacts"),
  ...hint("goal", 'an agent node\'s goal is "goal": "..."', "prompt", "task", "instruction", "instructions"),
  ...hint("approval", '"approval": "each-action" or "risky"', "approve", "requireApproval"),
};

const TARGET_HINTS: Record<string, Hint> = {
  ...hint(
    "device",
    'a device is named by "device": "name-or-id"',
    "name",
    "deviceName",
    "id",
    "deviceId",
    "host",
  ),
  ...hint("os", '"os": "linux", "darwin" or "windows"', "platform", "system"),
  ...hint("tags", '"tags": ["tag", ...]', "tag"),
  ...hint("apps", '"apps": ["app name", ...]', "app", "applications"),
  ...hint("input", '"input": true asks for mouse and keyboard', "mouse", "keyboard"),
  ...hint("run", '"run": true asks for a device started with --allow-run', "allowRun"),
};

const RETRY_HINTS: Record<string, Hint> = {
  ...hint("attempts", '"attempts" counts every try, the first included', "max", "count", "retries", "tries"),
  ...hint("attempts", '"attempts" counts every try, the first included', "maxAttempts", "times"),
  ...hint("backoffMs", '"backoffMs" is the pause before the first retry', "backoff", "delay", "delayMs"),
  ...hint("backoffMs", '"backoffMs" is the pause before the first retry', "wait", "waitMs", "interval"),
};

const OP_HINTS: Record<string, Hint> = {
  ...hint("waitFor", '"op": {"waitFor": "artifact-name"}', "artifact", "file", "wait"),
  ...hint("sleepMs", '"op": {"sleepMs": 1000}', "sleep", "ms", "durationMs", "delayMs"),
};

const ARTIFACT_HINTS: Record<string, Hint> = {
  ...hint("artifact", '{"artifact": "name", "file": "path/in/files-dir"}', "name", "id"),
  ...hint("file", '{"artifact": "name", "file": "path/in/files-dir"}', "path", "filename"),
};

const STEP_HINTS: Record<string, Hint> = {
  ...hint("timeoutMs", '"timeoutMs" is in milliseconds', "timeout", "timeout_ms", "timeoutMS"),
  ...hint("type", 'a step says what it is with "type"', "action", "kind", "step"),
};

/** Hints for one step type's own fields. */
const STEP_TYPE_HINTS: Record<string, Record<string, Hint>> = {
  key: hint("keys", '"keys": "ctrl+s"', "key", "combo", "shortcut"),
  type: hint("text", '"text": "what to type"', "value", "string", "input"),
  launch: hint("app", '"app": "name from the device\'s apps"', "name", "application", "program"),
  run: {
    ...hint("command", '"command": "sh", "args": ["-c", "..."]', "cmd", "program", "exec"),
    ...hint("args", '"args": ["one", "string", "each"]', "arguments", "argv"),
  },
  wait: hint("ms", '"ms": 1000', "duration", "durationMs", "delay", "milliseconds", "time", "timeMs"),
  fileInfo: hint("path", '"path": "relative/to/files-dir"', "file"),
  waitFor: {
    ...hint("window", '"window": "part of a window title"', "title", "windowTitle"),
    ...hint("file", '"file": "relative/to/files-dir"', "path"),
  },
  click: hint("clickText", 'to click a text, use a step {"type": "clickText", "text": "OK"}', "text"),
  clickText: hint("occurrence", '"occurrence": 2 picks the second match', "index", "nth"),
};

/** Explains one zod issue about `input` (a DAG, or an edit with nodes under `add`). */
export function explainIssue(input: unknown, issue: SchemaIssue, nodesKey = "nodes"): ExplainedIssue[] {
  if (issue.code === "unrecognized_keys" && issue.keys !== undefined) {
    return issue.keys.map((key) => unknownField(input, [...issue.path, key], nodesKey));
  }
  if (issue.code === "invalid_union" && issue.note === "No matching discriminator") {
    return [unknownDiscriminator(input, issue)];
  }
  if (issue.code === "invalid_union" && issue.errors !== undefined && issue.errors.length > 0) {
    return unionIssue(input, issue, issue.errors, nodesKey);
  }
  if (issue.code === "invalid_type" && valueAt(input, issue.path) === undefined) {
    const expected = issue.expected === undefined ? "" : ` (expected ${issue.expected})`;
    return [{ path: issue.path, message: `${dotted(issue.path)}: required but missing${expected}`, issue }];
  }
  return [{ path: issue.path, message: `${dotted(issue.path)}: ${issue.message}`, issue }];
}

/** How a union reads, for a value that mixes its alternatives. */
const UNION_SHAPES: Record<string, string> = {
  target:
    'a target is {"device": "name-or-id"} or requirements {"os", "apps", "tags", "input", "run"}, not both',
  op: 'op is {"waitFor": "artifact-name"} or {"sleepMs": n}, not both',
};

/**
 * A value no alternative of a union (`target`, `op`) accepts: fields unknown to every alternative are
 * explained one by one; fields of different alternatives mixed are named; otherwise the issues of the
 * alternative that came closest.
 */
function unionIssue(
  input: unknown,
  issue: SchemaIssue,
  branches: SchemaIssue[][],
  nodesKey: string,
): ExplainedIssue[] {
  const unknownIn = branches.map((branch) =>
    new Set(
      branch.filter((i) => i.code === "unrecognized_keys" && i.path.length === 0).flatMap((i) =>
        i.keys ?? []
      ),
    )
  );
  const common = [...unknownIn[0]].filter((key) => unknownIn.every((keys) => keys.has(key)));
  if (common.length > 0) return common.map((key) => unknownField(input, [...issue.path, key], nodesKey));
  const onlyUnknown = branches.every((branch) => branch.every((i) => i.code === "unrecognized_keys"));
  const shape = UNION_SHAPES[String(issue.path[issue.path.length - 1])];
  if (onlyUnknown && shape !== undefined) {
    const mixed = [...new Set(unknownIn.flatMap((keys) => [...keys]))].map((k) => `"${k}"`).join(" and ");
    return [{
      path: issue.path,
      message: `${dotted(issue.path)}: ${mixed} cannot be used together: ${shape}`,
    }];
  }
  const closest = branches.reduce((best, branch) => branch.length < best.length ? branch : best);
  return closest.flatMap((inner) =>
    explainIssue(input, { ...inner, path: [...issue.path, ...inner.path] }, nodesKey)
  );
}

/** The dotted form of a path: `nodes.1.after`. */
export function dotted(path: readonly PropertyKey[]): string {
  return path.map(String).join(".");
}

function unknownField(input: unknown, path: PropertyKey[], nodesKey: string): ExplainedIssue {
  const key = String(path[path.length - 1]);
  const place = placeOf(input, path.slice(0, -1), nodesKey);
  const known = place.hints[key];
  const where = dotted(path);
  if (known !== undefined) {
    return {
      path,
      message: `${where}: unknown field; use "${known.use}": ${known.how}`,
      suggestion: known.use,
    };
  }
  const near = nearest(key, place.fields);
  if (near !== undefined) {
    return { path, message: `${where}: unknown field; did you mean "${near}"?`, suggestion: near };
  }
  if (place.fields.length === 0) return { path, message: `${where}: unknown field` };
  return { path, message: `${where}: unknown field; ${place.what} takes ${place.fields.join(", ")}` };
}

function unknownDiscriminator(input: unknown, issue: SchemaIssue): ExplainedIssue {
  const field = String(issue.path[issue.path.length - 1]);
  const options = (issue.options ?? []).map(String);
  const holder = valueAt(input, issue.path.slice(0, -1)) as Record<string, unknown> | undefined;
  const given = holder?.[field];
  const where = dotted(issue.path);
  const list = options.map((o) => `"${o}"`).join(", ");
  // A node written with "type" (the steps' discriminator) instead of "kind".
  if (field === "kind" && given === undefined && typeof holder?.type === "string") {
    const path = [...issue.path.slice(0, -1), "type"];
    const how = `a node's kind is "kind": ${list} ("type" is for steps)`;
    return { path, message: `${dotted(path)}: unknown field; use "kind": ${how}`, suggestion: "kind" };
  }
  if (given === undefined) {
    return { path: issue.path, message: `${where}: missing; one of ${list}` };
  }
  const near = typeof given === "string" ? nearest(given, options) : undefined;
  const what = field === "kind" ? "node kind" : "step type";
  const shown = JSON.stringify(given);
  if (near !== undefined) {
    return {
      path: issue.path,
      message: `${where}: ${shown} is not a ${what}; did you mean "${near}"?`,
      suggestion: near,
    };
  }
  return { path: issue.path, message: `${where}: ${shown} is not a ${what}; use one of ${list}` };
}

/** What is at `path` (the object holding the unknown field): its fields and hints. */
function placeOf(
  input: unknown,
  path: PropertyKey[],
  nodesKey: string,
): { what: string; fields: string[]; hints: Record<string, Hint> } {
  if (path.length === 0) {
    return { what: "a DAG", fields: Object.keys(DagSchema.shape), hints: DAG_HINTS };
  }
  if (path[0] !== nodesKey || typeof path[1] !== "number") {
    return { what: "this object", fields: [], hints: {} };
  }
  const node = valueAt(input, path.slice(0, 2)) as Record<string, unknown> | undefined;
  const kind = typeof node?.kind === "string" ? node.kind : "script";
  const variant = NodeSchema.options.find((o) => o.shape.kind.value === kind) ?? NodeSchema.options[0];
  const rest = path.slice(2);
  if (rest.length === 0) {
    return { what: `a ${kind} node`, fields: Object.keys(variant.shape), hints: nodeHints(kind) };
  }
  const [field, index, inner] = rest;
  if (field === "target") {
    return {
      what: "a target",
      fields: ["device", ...Object.keys(RequirementsTargetSchema.shape)],
      hints: TARGET_HINTS,
    };
  }
  if (field === "retry") return { what: "retry", fields: Object.keys(RetrySchema.shape), hints: RETRY_HINTS };
  if (field === "op") return { what: "op", fields: ["waitFor", "sleepMs"], hints: OP_HINTS };
  if (field === "inputs" || field === "outputs") {
    return { what: `an ${String(field).slice(0, -1)}`, fields: ["artifact", "file"], hints: ARTIFACT_HINTS };
  }
  if (field === "steps" && typeof index === "number" && inner === undefined) {
    const step = valueAt(input, path) as { type?: unknown } | undefined;
    const type = String(step?.type);
    const schema = DagStepSchema.options.find((o) => o.shape.type.value === type);
    return {
      what: `a ${type} step`,
      fields: schema === undefined ? ["type"] : Object.keys(schema.shape),
      hints: { ...STEP_HINTS, ...STEP_TYPE_HINTS[type] },
    };
  }
  if (field === "steps") return { what: "a point", fields: ["x", "y"], hints: {} };
  return { what: "this object", fields: [], hints: {} };
}

function nodeHints(kind: string): Record<string, Hint> {
  const hints: Record<string, Hint> = { ...NODE_HINTS };
  for (const type of STEP_TYPES) {
    hints[type] = {
      use: "steps",
      how: `${type} is a step type: put it in "steps": [{"type": "${type}", ...}]`,
    };
  }
  if (kind === "server") {
    hints.waitFor = { use: "op", how: 'a server node waits with "op": {"waitFor": "artifact-name"}' };
    hints.sleepMs = { use: "op", how: 'a server node sleeps with "op": {"sleepMs": 1000}' };
    hints.sleep = hints.sleepMs;
  } else {
    hints.sleepMs = { use: "steps", how: 'a pause is a step: "steps": [{"type": "wait", "ms": 1000}]' };
  }
  return hints;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** The allowed name closest to `name`: same letters ignoring case and `_`/`-`, or at most 2 edits away. */
function nearest(name: string, allowed: readonly string[]): string | undefined {
  const loose = (s: string) => s.toLowerCase().replaceAll(/[_-]/g, "");
  const same = allowed.find((a) => loose(a) === loose(name));
  if (same !== undefined) return same;
  let best: string | undefined;
  let bestDistance = Math.min(2, Math.floor(name.length / 3));
  for (const candidate of allowed) {
    // "timout" is one edit from "timeoutMs" without its unit.
    const distance = Math.min(
      editDistance(loose(name), loose(candidate)),
      editDistance(loose(name), loose(candidate).replace(/ms$/, "")),
    );
    if (distance <= bestDistance && (best === undefined || distance < bestDistance)) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
    }
    previous = current;
  }
  return previous[b.length];
}
