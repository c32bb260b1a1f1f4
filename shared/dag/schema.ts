/**
 * The Orion DAG model, submitted as JSON: nodes of kind `script` (explicit steps on a device), `agent`
 * (a goal for the Brain) or `server` (an operation on the server), with dependencies, artifacts,
 * timeouts and retry policies.
 */
import { z } from "zod";
import { StepSchema } from "../actions.ts";
import { validateRelativePath } from "../artifacts.ts";

/** Documented limits of a DAG. */
export const DAG_LIMITS = {
  maxNodes: 10_000,
  maxStepsPerNode: 1_000,
  maxDependencies: 1_000,
  maxArtifactsPerNode: 100,
  maxNameLength: 200,
  maxTimeoutMs: 24 * 3_600_000,
  maxAttempts: 20,
  maxBackoffMs: 3_600_000,
  defaultTimeoutMs: 600_000,
} as const;

const Id = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "ids use 1-64 letters, digits, '.', '_' or '-'");

/** A file path relative to the device's files directory. */
export const RelativeFileSchema = z.string().max(1024).superRefine((path, ctx) => {
  const checked = validateRelativePath(path);
  if (!checked.ok) ctx.addIssue({ code: "custom", message: checked.error.message });
});

/** An artifact bound to a file on the device. */
export const ArtifactFileSchema = z.object({ artifact: Id, file: RelativeFileSchema });

/** Where a node runs: a named device, or requirements any matching device meets. */
export const TargetSchema = z.union([
  z.object({ device: z.string().min(1).max(128) }).strict(),
  z.object({
    os: z.string().min(1).max(32).optional(),
    apps: z.array(z.string().min(1).max(300)).max(50).optional(),
    tags: z.array(z.string().min(1).max(64)).max(50).optional(),
    input: z.boolean().optional(),
  }).strict(),
]);
/** Where a node runs. */
export type Target = z.infer<typeof TargetSchema>;

/** How often a node may be tried and how long to wait between tries (doubling each time). */
export const RetrySchema = z.object({
  attempts: z.number().int().min(1).max(DAG_LIMITS.maxAttempts),
  backoffMs: z.number().int().min(0).max(DAG_LIMITS.maxBackoffMs).default(0),
});
/** A retry policy. */
export type Retry = z.infer<typeof RetrySchema>;

/** A server-side operation. */
export const ServerOpSchema = z.union([
  z.object({ waitFor: Id }).strict(),
  z.object({ sleepMs: z.number().int().min(0).max(DAG_LIMITS.maxTimeoutMs) }).strict(),
]);

const Common = {
  id: Id,
  after: z.array(Id).max(DAG_LIMITS.maxDependencies).default([]),
  inputs: z.array(ArtifactFileSchema).max(DAG_LIMITS.maxArtifactsPerNode).default([]),
  outputs: z.array(ArtifactFileSchema).max(DAG_LIMITS.maxArtifactsPerNode).default([]),
  timeoutMs: z.number().int().min(1).max(DAG_LIMITS.maxTimeoutMs).optional(),
  retry: RetrySchema.optional(),
};

/** A script node: explicit steps on a device. */
export const ScriptNodeSchema = z.object({
  ...Common,
  kind: z.literal("script"),
  target: TargetSchema,
  steps: z.array(StepSchema).max(DAG_LIMITS.maxStepsPerNode),
}).strict();
/** An agent node: a goal the Brain pursues on a device. */
export const AgentNodeSchema = z.object({
  ...Common,
  kind: z.literal("agent"),
  target: TargetSchema,
  goal: z.string().min(1).max(10_000),
  maxSteps: z.number().int().min(1).max(1000).optional(),
}).strict();
/** A server node: runs on the server. */
export const ServerNodeSchema = z.object({
  ...Common,
  kind: z.literal("server"),
  op: ServerOpSchema,
}).strict();

/** A DAG node. */
export const NodeSchema = z.discriminatedUnion("kind", [ScriptNodeSchema, AgentNodeSchema, ServerNodeSchema]);
/** A DAG node. */
export type DagNode = z.infer<typeof NodeSchema>;

/** A DAG as submitted. */
export const DagSchema = z.object({
  name: z.string().min(1).max(DAG_LIMITS.maxNameLength),
  nodes: z.array(NodeSchema).min(1).max(DAG_LIMITS.maxNodes),
}).strict();
/** A DAG as submitted. */
export type Dag = z.infer<typeof DagSchema>;

/** Whether a node occupies a device's screen and input (one such node per device at a time). */
export function isGuiNode(node: DagNode): boolean {
  return node.kind === "agent" || (node.kind === "script" && node.steps.some((step) => step.type !== "wait"));
}
