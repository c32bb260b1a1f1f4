/**
 * The Brain, assembled from the configuration: the step executor (the embedded default: steps decided
 * by deterministic code that looks at the screen), the model when one is configured (agent nodes and the
 * planner), and the approval gate.
 */
import type { Timers } from "../../shared/clock.ts";
import type { ServerConfig } from "../config.ts";
import type { ActionDispatcher } from "../gateway/action_dispatcher.ts";
import type { FrameSource } from "./steps.ts";
import type { AgentSetup } from "../orion/attempts.ts";
import { type ApprovalChange, ApprovalGate } from "./approval.ts";
import { type ChatModel, OpenAiCompatible } from "./llm.ts";
import { type FindText, StepExecutor } from "./steps.ts";
import type { OcrEngine } from "./types.ts";

/** The assembled Brain. */
export interface Brain {
  steps: StepExecutor;
  /** Null without `--llm-base-url` and `--llm-model`. */
  model: ChatModel | null;
  agent: AgentSetup | null;
  approvals: ApprovalGate;
}

/** Builds the Brain. */
export function createBrain(deps: {
  config: ServerConfig;
  dispatcher: ActionDispatcher;
  /** The latest-frame store; the Brain's captures go through it. */
  frames: FrameSource;
  clock: Timers;
  ocr: OcrEngine | null;
  findText: FindText;
  onApproval: (change: ApprovalChange) => void;
}): Brain {
  const { config, clock, ocr } = deps;
  const steps = new StepExecutor({
    dispatcher: deps.dispatcher,
    frames: deps.frames,
    clock,
    ocr,
    findText: deps.findText,
  });
  const model = config.llmBaseUrl !== undefined && config.llmModel !== undefined
    ? new OpenAiCompatible({
      baseUrl: config.llmBaseUrl,
      model: config.llmModel,
      apiKey: config.llmApiKey,
      timeoutMs: config.llmTimeoutMs,
      concurrency: config.llmConcurrency,
      clock,
    })
    : null;
  const agent: AgentSetup | null = model === null ? null : {
    model,
    capture: (run) => steps.capture(run),
    ocr,
    clock,
    maxSteps: config.agentMaxSteps,
    maxTokens: config.agentMaxTokens,
  };
  return { steps, model, agent, approvals: new ApprovalGate(deps.onApproval) };
}
