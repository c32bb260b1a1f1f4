/** What the node runner hands the step log as a step ends: its entry, and the frame the step captured. */
import type { ActionOutcome } from "../gateway/action_dispatcher.ts";
import type { StepRecord } from "../orion/node_runner.ts";
import type { Frame, StepEntry } from "./types.ts";

/** The attempt a step belongs to. */
export interface StepOwner {
  dagId: string;
  nodeId: string;
  attempt: number;
}

/** The step log's entry for a step record and the device's answer to it (null for a wait). */
export function stepEntry(owner: StepOwner, record: StepRecord, outcome: ActionOutcome | null): StepEntry {
  const { type, ...args } = record.step;
  const entry: StepEntry = {
    dagId: owner.dagId,
    nodeId: owner.nodeId,
    attempt: owner.attempt,
    index: record.index,
    type,
    args,
    startedAt: record.startedAtMs,
    endedAt: record.endedAtMs,
    ok: record.ok,
    error: record.error ?? null,
  };
  if (outcome?.ok && outcome.output !== undefined) entry.output = outcome.output;
  return entry;
}

/** The frame a device sent with its answer (a `frame` step's capture), if any. */
export function outcomeFrame(outcome: ActionOutcome | null): Frame | undefined {
  if (!outcome?.ok || outcome.frame === undefined) return undefined;
  const { meta, image } = outcome.frame;
  return {
    format: meta.format,
    image,
    width: meta.width,
    height: meta.height,
    originalWidth: meta.originalWidth,
    originalHeight: meta.originalHeight,
    capturedAtMs: meta.capturedAtMs,
  };
}
