/**
 * The Orion DAG model, submitted as JSON: nodes of kind `script` (explicit steps on a device), `agent`
 * (a goal for the Brain) or `server` (an operation on the server), with dependencies, artifacts,
 * timeouts and retry policies. Kind-specific fields are required or forbidden by strict objects.
 */
import { z } from "zod";
import {
  ClickActionSchema,
  ClickTextStepSchema,
  DragActionSchema,
  FileInfoActionSchema,
  FrameActionSchema,
  KeyActionSchema,
  LaunchActionSchema,
  MoveActionSchema,
  RunActionSchema,
  ScrollActionSchema,
  TypeActionSchema,
  WaitActionSchema,
  WaitForStepSchema,
  WindowsActionSchema,
} from "../actions.ts";
import { SEGMENT_NAME_PATTERN, segmentNameProblem, validateRelativePath } from "../artifacts.ts";

/** Documented limits of a DAG; a DAG past any of them is refused with rule `limits`. */
export const DAG_LIMITS = {
  maxNodes: 10_000,
  maxStepsPerNode: 1_000,
  /** Steps summed over every node of one DAG. */
  maxTotalSteps: 200_000,
  maxDependencies: 1_000,
  maxArtifactsPerNode: 100,
  maxNameLength: 200,
  maxGoalLength: 10_000,
  maxFilePathLength: 1_024,
  maxDeviceNameLength: 128,
  maxTimeoutMs: 24 * 3_600_000,
  maxAttempts: 20,
  maxBackoffMs: 3_600_000,
  /** Deadline of a device attempt whose node sets no `timeoutMs`. */
  defaultTimeoutMs: 600_000,
} as const;

/** Node ids: 1-64 letters, digits, `.`, `_` or `-`. */
export const ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

const Id = z.string().regex(ID_PATTERN, "ids use 1-64 letters, digits, '.', '_' or '-'");

/**
 * An artifact name: the artifact store's own rule (`SEGMENT_NAME_PATTERN` in shared/artifacts.ts), so a
 * DAG can never name an artifact the store would refuse to keep.
 */
export const ArtifactNameSchema = z.string().superRefine((name, ctx) => {
  const problem = segmentNameProblem(name);
  if (problem !== null) ctx.addIssue({ code: "custom", message: problem, params: { artifactName: true } });
}).meta({ pattern: SEGMENT_NAME_PATTERN.source });

/** One path segment: not empty, `.` or `..`; no `/`, backslash or NUL. */
const SEGMENT = String.raw`(?!\.{1,2}(?:/|$))[^/\\\u0000]+`;
/** `RelativeFileSchema`'s rule as a regular expression, for the JSON Schema (editors check it as you type). */
export const RELATIVE_FILE_PATTERN = `^(?![A-Za-z]:)${SEGMENT}(?:/${SEGMENT})*$`;

/**
 * A file path relative to the device's files directory: no absolute path, drive letter, `..` or `.`
 * segment, empty segment, backslash or NUL.
 */
export const RelativeFileSchema = z.string().max(DAG_LIMITS.maxFilePathLength).superRefine((path, ctx) => {
  const checked = validateRelativePath(path);
  if (!checked.ok) {
    ctx.addIssue({ code: "custom", message: checked.error.message, params: { pathEscape: true } });
  }
}).meta({ pattern: RELATIVE_FILE_PATTERN });

/** An artifact bound to a file on the device. */
export const ArtifactFileSchema = z.object({
  artifact: ArtifactNameSchema.describe(
    "The artifact's name: 1-64 letters, digits, '.', '_' or '-', not starting with '.'.",
  ),
  file: RelativeFileSchema.describe(
    "A path relative to the device's files directory (--files-dir); no '..', no absolute path.",
  ),
}).strict().describe("An artifact bound to a file on the device.");
/** An artifact bound to a file on the device. */
export type ArtifactFile = z.infer<typeof ArtifactFileSchema>;

/** A named device (by id or name). */
export const DeviceTargetSchema = z.object({
  device: z.string().min(1).max(DAG_LIMITS.maxDeviceNameLength).describe(
    "A device's name (its --name) or id; when a name and another device's id are equal, the id wins.",
  ),
}).strict().describe("One named device.");
/** Requirements any matching device meets; `input: true` asks for both mouse and keyboard. */
export const RequirementsTargetSchema = z.object({
  os: z.string().min(1).max(32).optional().describe("The device's OS platform: linux, darwin or windows."),
  apps: z.array(z.string().min(1).max(300)).max(50).optional()
    .describe("Applications the device must have (names as it lists them)."),
  tags: z.array(z.string().min(1).max(64)).max(50).optional()
    .describe("Tags the device must carry (its --tags)."),
  input: z.boolean().optional().describe("true: the device must have both mouse and keyboard input."),
  /** `true` asks for a device that runs programs (started with `--allow-run`). */
  run: z.boolean().optional()
    .describe("true: the device must run programs (--allow-run); implied by a run step."),
}).strict().describe("Requirements; any device meeting all of them may run the node ({} is any device).");
/** Where a node runs: a named device, or requirements any matching device meets. */
export const TargetSchema = z.union([DeviceTargetSchema, RequirementsTargetSchema])
  .describe(
    'Where the node runs: {"device": "name-or-id"}, or requirements {"os", "apps", "tags", "input", "run"}.',
  );
/** Where a node runs. */
export type Target = z.infer<typeof TargetSchema>;

/**
 * How often a node may be tried (`attempts` counts the first try) and the backoff before a retry:
 * exponential, `backoffMs * 2^(n-1)` before attempt n+1, capped at `DAG_LIMITS.maxBackoffMs`.
 */
export const RetrySchema = z.object({
  attempts: z.number().int().min(1).max(DAG_LIMITS.maxAttempts)
    .describe("Tries in all, the first included (1: no retry)."),
  backoffMs: z.number().int().min(0).max(DAG_LIMITS.maxBackoffMs).default(0)
    .describe("Pause before the first retry; doubles before each next one (capped at an hour)."),
}).strict();
/** A retry policy. */
export type Retry = z.infer<typeof RetrySchema>;

/** A server-side operation: wait until an artifact has arrived, or sleep. */
export const ServerOpSchema = z.union([
  z.object({
    waitFor: ArtifactNameSchema.describe("Wait until this artifact has arrived at the server."),
  }).strict(),
  z.object({
    sleepMs: z.number().int().min(0).max(DAG_LIMITS.maxTimeoutMs).describe(
      "Sleep this long, in milliseconds.",
    ),
  }).strict(),
]).describe('What the server does: {"waitFor": "artifact-name"} or {"sleepMs": n}.');
/** A server-side operation. */
export type ServerOp = z.infer<typeof ServerOpSchema>;

/**
 * Steps as a DAG takes them: every step type of `StepSchema`, strict, so a misspelt field (`timeout` for
 * `timeoutMs`) is refused rather than silently ignored. The operator action API and the Brain's tools keep
 * the lenient schemas. (A strict copy loses the description, so it is given again.)
 */
export const DagStepSchema = z.discriminatedUnion("type", [
  MoveActionSchema.strict().describe(MoveActionSchema.description!),
  ClickActionSchema.strict().describe(ClickActionSchema.description!),
  DragActionSchema.strict().describe(DragActionSchema.description!),
  TypeActionSchema.strict().describe(TypeActionSchema.description!),
  KeyActionSchema.strict().describe(KeyActionSchema.description!),
  ScrollActionSchema.strict().describe(ScrollActionSchema.description!),
  LaunchActionSchema.strict().describe(LaunchActionSchema.description!),
  FrameActionSchema.strict().describe(FrameActionSchema.description!),
  RunActionSchema.strict().describe(RunActionSchema.description!),
  WindowsActionSchema.strict().describe(WindowsActionSchema.description!),
  FileInfoActionSchema.strict().describe(FileInfoActionSchema.description!),
  WaitActionSchema.strict().describe(WaitActionSchema.description!),
  WaitForStepSchema.strict().describe(WaitForStepSchema.description!),
  ClickTextStepSchema.strict().describe(ClickTextStepSchema.description!),
]);

const Common = {
  id: Id.describe("The node's id, unique in the DAG: 1-64 letters, digits, '.', '_' or '-'."),
  after: z.array(Id).max(DAG_LIMITS.maxDependencies).default([])
    .describe("Ids of the nodes that must succeed before this one starts (its dependencies)."),
  inputs: z.array(ArtifactFileSchema).max(DAG_LIMITS.maxArtifactsPerNode).default([])
    .describe("Artifacts copied into the device's files directory before the node starts."),
  outputs: z.array(ArtifactFileSchema).max(DAG_LIMITS.maxArtifactsPerNode).default([])
    .describe("Files the device uploads as artifacts when the node succeeds."),
  timeoutMs: z.number().int().min(1).max(DAG_LIMITS.maxTimeoutMs).optional()
    .describe(
      "Deadline of one attempt, in milliseconds (device nodes: 600000 when absent); past it, timeout.",
    ),
  retry: RetrySchema.optional().describe("Retry policy: {attempts, backoffMs}; absent: one attempt."),
  /**
   * Hold actions for an operator's approval: `each-action`, or only `risky` ones (starting a terminal or a
   * shell, running a program, typing while a password label is on screen).
   */
  approval: z.enum(["each-action", "risky"]).optional().describe(
    "Hold actions for an operator's approval: each-action, or risky ones only (a terminal, run, typing at a password).",
  ),
};

/** A script node: explicit steps on a device (`steps` and `target` required). */
export const ScriptNodeSchema = z.object({
  ...Common,
  kind: z.literal("script").describe("script: explicit steps on a device."),
  target: TargetSchema,
  steps: z.array(DagStepSchema).max(DAG_LIMITS.maxStepsPerNode)
    .describe('The steps, in order: [{"type": "click", "x": 10, "y": 20}, ...].'),
}).strict().describe("A script node: explicit steps on a device.");
/** An agent node: a goal the Brain pursues on a device (`goal` and `target` required). */
export const AgentNodeSchema = z.object({
  ...Common,
  kind: z.literal("agent").describe("agent: a goal the Brain pursues on a device (needs a model)."),
  target: TargetSchema,
  goal: z.string().min(1).max(DAG_LIMITS.maxGoalLength).describe("What the agent should achieve, in words."),
  maxSteps: z.number().int().min(1).max(DAG_LIMITS.maxStepsPerNode).optional()
    .describe("Actions the agent may take in one attempt (default: the server's --agent-max-steps)."),
  /** Tokens the model may use over one attempt (prompt and completion). */
  maxTokens: z.number().int().min(1000).max(10_000_000).optional()
    .describe("Model tokens one attempt may use (default: the server's --agent-max-tokens)."),
}).strict().describe("An agent node: a goal for the Brain on a device.");
/** A server node: runs on the server (`op` required, `target` and `steps` forbidden). */
export const ServerNodeSchema = z.object({
  ...Common,
  kind: z.literal("server").describe("server: an operation on the server (wait for an artifact, sleep)."),
  op: ServerOpSchema,
}).strict().describe("A server node: runs on the server, no device.");

/** A DAG node. */
export const NodeSchema = z.discriminatedUnion("kind", [ScriptNodeSchema, AgentNodeSchema, ServerNodeSchema]);
/** A DAG node. */
export type DagNode = z.infer<typeof NodeSchema>;
/** A node that runs on a device. */
export type DeviceNode = Extract<DagNode, { target: unknown }>;

/** A DAG as submitted. */
export const DagSchema = z.object({
  $schema: z.string().max(2048).optional()
    .describe('The JSON Schema this file follows, for editors ("./dag.schema.json"); the server ignores it.'),
  name: z.string().min(1).max(DAG_LIMITS.maxNameLength).describe("A name for people; need not be unique."),
  nodes: z.array(NodeSchema).min(1).max(DAG_LIMITS.maxNodes)
    .describe("The nodes, in any order; each lists the nodes it depends on in its after."),
}).strict().describe("An Orion DAG: nodes with dependencies, run across devices and the server.");
/** A DAG as submitted. */
export type Dag = z.infer<typeof DagSchema>;

/** Whether a node runs on a device (script or agent) rather than on the server. */
export function isDeviceNode(node: DagNode): node is DeviceNode {
  return node.kind !== "server";
}

/** Step types that change what is on a device's screen or take its input. */
const SCREEN_STEPS: ReadonlySet<string> = new Set([
  "move",
  "click",
  "drag",
  "type",
  "key",
  "scroll",
  "launch",
  "clickText",
]);

/**
 * Whether a node occupies a device's screen and input (one such node per device at a time): an agent node,
 * or a script node with a step that acts on the screen. Waiting, looking (`frame`, `waitFor`, `windows`),
 * running programs and file checks share a device.
 */
export function isGuiNode(node: DagNode): boolean {
  return node.kind === "agent" ||
    (node.kind === "script" && node.steps.some((step) => SCREEN_STEPS.has(step.type)));
}

/**
 * Where a device node may run: its target, and for requirements, `run: true` as soon as it has a `run`
 * step (a device that refuses programs would only fail it).
 */
export function effectiveTarget(node: DeviceNode): Target {
  const target = node.target;
  if ("device" in target || target.run !== undefined) return target;
  return node.kind === "script" && node.steps.some((step) => step.type === "run")
    ? { ...target, run: true }
    : target;
}

/** The artifacts a node needs before it can run: its inputs, and a server `waitFor`. */
export function neededArtifacts(node: DagNode): string[] {
  const needed = node.inputs.map((input) => input.artifact);
  if (node.kind === "server" && "waitFor" in node.op) needed.push(node.op.waitFor);
  return needed;
}
