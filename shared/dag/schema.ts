/**
 * The Orion DAG model, submitted as JSON: nodes of kind `script` (explicit steps on a device), `agent`
 * (a goal for the Brain) or `server` (an operation on the server), with dependencies, artifacts,
 * timeouts and retry policies. Kind-specific fields are required or forbidden by strict objects.
 */
import { z } from "zod";
import { StepSchema } from "../actions.ts";
import { segmentNameProblem, validateRelativePath } from "../artifacts.ts";

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
});

/**
 * A file path relative to the device's files directory: no absolute path, drive letter, `..` or `.`
 * segment, empty segment, backslash or NUL.
 */
export const RelativeFileSchema = z.string().max(DAG_LIMITS.maxFilePathLength).superRefine((path, ctx) => {
  const checked = validateRelativePath(path);
  if (!checked.ok) {
    ctx.addIssue({ code: "custom", message: checked.error.message, params: { pathEscape: true } });
  }
});

/** An artifact bound to a file on the device. */
export const ArtifactFileSchema = z.object({ artifact: ArtifactNameSchema, file: RelativeFileSchema })
  .strict();
/** An artifact bound to a file on the device. */
export type ArtifactFile = z.infer<typeof ArtifactFileSchema>;

/** A named device (by id or name). */
export const DeviceTargetSchema = z.object({ device: z.string().min(1).max(DAG_LIMITS.maxDeviceNameLength) })
  .strict();
/** Requirements any matching device meets; `input: true` asks for both mouse and keyboard. */
export const RequirementsTargetSchema = z.object({
  os: z.string().min(1).max(32).optional(),
  apps: z.array(z.string().min(1).max(300)).max(50).optional(),
  tags: z.array(z.string().min(1).max(64)).max(50).optional(),
  input: z.boolean().optional(),
  /** `true` asks for a device that runs programs (started with `--allow-run`). */
  run: z.boolean().optional(),
}).strict();
/** Where a node runs: a named device, or requirements any matching device meets. */
export const TargetSchema = z.union([DeviceTargetSchema, RequirementsTargetSchema]);
/** Where a node runs. */
export type Target = z.infer<typeof TargetSchema>;

/**
 * How often a node may be tried (`attempts` counts the first try) and the backoff before a retry:
 * exponential, `backoffMs * 2^(n-1)` before attempt n+1, capped at `DAG_LIMITS.maxBackoffMs`.
 */
export const RetrySchema = z.object({
  attempts: z.number().int().min(1).max(DAG_LIMITS.maxAttempts),
  backoffMs: z.number().int().min(0).max(DAG_LIMITS.maxBackoffMs).default(0),
}).strict();
/** A retry policy. */
export type Retry = z.infer<typeof RetrySchema>;

/** A server-side operation: wait until an artifact has arrived, or sleep. */
export const ServerOpSchema = z.union([
  z.object({ waitFor: ArtifactNameSchema }).strict(),
  z.object({ sleepMs: z.number().int().min(0).max(DAG_LIMITS.maxTimeoutMs) }).strict(),
]);
/** A server-side operation. */
export type ServerOp = z.infer<typeof ServerOpSchema>;

const Common = {
  id: Id,
  after: z.array(Id).max(DAG_LIMITS.maxDependencies).default([]),
  inputs: z.array(ArtifactFileSchema).max(DAG_LIMITS.maxArtifactsPerNode).default([]),
  outputs: z.array(ArtifactFileSchema).max(DAG_LIMITS.maxArtifactsPerNode).default([]),
  timeoutMs: z.number().int().min(1).max(DAG_LIMITS.maxTimeoutMs).optional(),
  retry: RetrySchema.optional(),
  /**
   * Hold actions for an operator's approval: `each-action`, or only `risky` ones (starting a terminal or a
   * shell, running a program, typing while a password label is on screen).
   */
  approval: z.enum(["each-action", "risky"]).optional(),
};

/** A script node: explicit steps on a device (`steps` and `target` required). */
export const ScriptNodeSchema = z.object({
  ...Common,
  kind: z.literal("script"),
  target: TargetSchema,
  steps: z.array(StepSchema).max(DAG_LIMITS.maxStepsPerNode),
}).strict();
/** An agent node: a goal the Brain pursues on a device (`goal` and `target` required). */
export const AgentNodeSchema = z.object({
  ...Common,
  kind: z.literal("agent"),
  target: TargetSchema,
  goal: z.string().min(1).max(DAG_LIMITS.maxGoalLength),
  maxSteps: z.number().int().min(1).max(DAG_LIMITS.maxStepsPerNode).optional(),
  /** Tokens the model may use over one attempt (prompt and completion). */
  maxTokens: z.number().int().min(1000).max(10_000_000).optional(),
}).strict();
/** A server node: runs on the server (`op` required, `target` and `steps` forbidden). */
export const ServerNodeSchema = z.object({
  ...Common,
  kind: z.literal("server"),
  op: ServerOpSchema,
}).strict();

/** A DAG node. */
export const NodeSchema = z.discriminatedUnion("kind", [ScriptNodeSchema, AgentNodeSchema, ServerNodeSchema]);
/** A DAG node. */
export type DagNode = z.infer<typeof NodeSchema>;
/** A node that runs on a device. */
export type DeviceNode = Extract<DagNode, { target: unknown }>;

/** A DAG as submitted. */
export const DagSchema = z.object({
  name: z.string().min(1).max(DAG_LIMITS.maxNameLength),
  nodes: z.array(NodeSchema).min(1).max(DAG_LIMITS.maxNodes),
}).strict();
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
