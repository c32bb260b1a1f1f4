/**
 * The agent loop of an `agent` node: each turn takes a fresh frame of the device's screen, reads its text
 * (OCR words as hints, in the screenshot's pixels), and asks the model, with the goal and what happened so
 * far, for the next action as a tool call; the node runner carries the action out and the outcome goes back
 * to the model on the next turn. It ends at `done` (the node succeeds), `fail`, the step or token budget,
 * the node's deadline or a cancel (the runner's signal). A reply that is not a valid tool call is answered
 * once with what is wrong; a second bad reply fails with `bad-model-output`.
 */
import { type Failure, failure, FailureError } from "../../shared/protocol/mod.ts";
import type { Timers } from "../../shared/clock.ts";
import { encodeBase64 } from "../../shared/base64.ts";
import { assistantTurn, type ChatMessage, type ChatModel } from "./llm.ts";
import type { StepOutcome, StepRun } from "./steps.ts";
import { loadSharp } from "./sharp.ts";
import { agentTools, decide, type Scale } from "./tools.ts";
import type { Frame, OcrEngine, ScreenText } from "./types.ts";
import type { Planned, StepSource } from "../orion/node_runner.ts";

/** Widest screenshot sent to the model (device frames are scaled down to it). */
export const MODEL_IMAGE_WIDTH = 1280;

/** What the loop needs. */
export interface AgentDeps {
  model: ChatModel;
  /** Takes a fresh full-size frame of the device (the step executor's). */
  capture(run: StepRun): Promise<{ ok: true; frame: Frame } | { ok: false; error: Failure }>;
  ocr: OcrEngine | null;
  clock: Timers;
}

/** One agent node's attempt. */
export interface AgentSpec {
  goal: string;
  /** Actions before the node fails with `budget-exceeded`. */
  maxSteps: number;
  /** Tokens (prompt + completion, summed over the attempt) before it fails with `budget-exceeded`. */
  maxTokens: number;
  device: { name: string; os: string; apps: string[] };
  run: Omit<StepRun, "baseline">;
}

const SYSTEM_PROMPT = `You operate a computer through tools, one action per turn, to reach the user's goal.
Each turn you get a screenshot and the words OCR read on it with their boxes (x, y, width, height in the
screenshot's pixels). Coordinates you give are pixels of that screenshot. Call exactly one tool per turn.
Prefer clickText when the thing to click has a label. Call done with a short summary when the goal is
reached, or fail with the reason when it cannot be reached.`;

/** Runs one agent attempt as a source of steps for the node runner. */
export class AgentSource implements StepSource {
  readonly #deps: AgentDeps;
  readonly #spec: AgentSpec;
  readonly #messages: ChatMessage[];
  readonly #tools = agentTools();
  #steps = 0;
  #tokens = 0;
  /** The tool call of the step the runner is carrying out: its outcome answers it on the next turn. */
  #lastCallId: string | null = null;

  constructor(deps: AgentDeps, spec: AgentSpec) {
    this.#deps = deps;
    this.#spec = spec;
    this.#messages = [
      { role: "system", content: SYSTEM_PROMPT },
      {
        role: "user",
        content: `Goal: ${spec.goal}\nDevice: ${spec.device.name} (${spec.device.os}); applications: ${
          spec.device.apps.slice(0, 60).join(", ") || "none listed"
        }.`,
      },
    ];
  }

  /** Tokens spent so far. */
  get tokens(): number {
    return this.#tokens;
  }

  async next(previous: StepOutcome | null): Promise<Planned | null> {
    const clock = this.#deps.clock;
    if (this.#lastCallId !== null && previous !== null) {
      const result = previous.ok
        ? `ok${previous.output === undefined ? "" : `: ${short(previous.output)}`}`
        : `failed: ${previous.error.code}: ${previous.error.message}`;
      this.#messages.push({ role: "tool", tool_call_id: this.#lastCallId, content: result });
      this.#lastCallId = null;
    }
    if (this.#steps >= this.#spec.maxSteps) {
      const f = failure("budget-exceeded", `${this.#spec.maxSteps} steps without done`);
      return { end: "fail", failure: f };
    }
    const frameStarted = clock.now();
    const captured = await this.#deps.capture(this.#spec.run);
    if (!captured.ok) throw new FailureError(captured.error);
    const full = captured.frame;
    const captureMs = clock.now() - frameStarted;
    const screenshot = await forModel(full);
    const encodeMs = clock.now() - frameStarted - captureMs;
    const frameMs = captureMs + encodeMs;
    // The step log keeps what the model saw (already a JPEG: nothing to re-encode).
    const frame: Frame = {
      format: "jpeg",
      image: screenshot.jpeg,
      width: screenshot.width,
      height: screenshot.height,
      originalWidth: full.originalWidth,
      originalHeight: full.originalHeight,
      capturedAtMs: full.capturedAtMs,
    };
    const ocrStarted = clock.now();
    const text = await this.#read(full);
    const ocrMs = clock.now() - ocrStarted;
    const scale: Scale = {
      x: frame.originalWidth / screenshot.width,
      y: frame.originalHeight / screenshot.height,
    };
    this.#dropOldImages();
    this.#messages.push({
      role: "user",
      content: [
        {
          type: "text",
          text: `Turn ${this.#steps + 1}. Screenshot ${screenshot.width}x${screenshot.height}.${
            hints(text, scale)
          }`,
        },
        { type: "image_url", image_url: { url: `data:image/jpeg;base64,${encodeBase64(screenshot.jpeg)}` } },
      ],
    });
    const modelStarted = clock.now();
    let repaired = false;
    for (;;) {
      const reply = await this.#deps.model.complete(
        { messages: this.#messages, tools: this.#tools, toolChoice: "required" },
        { signal: this.#spec.run.signal },
      );
      this.#tokens += reply.usage.totalTokens;
      const call = reply.toolCalls[0];
      this.#messages.push(assistantTurn(reply.content, call));
      const note = {
        model: {
          content: reply.content,
          tool: call ? { name: call.name, arguments: call.arguments } : null,
          usage: reply.usage,
        },
        ms: {
          frame: frameMs,
          capture: captureMs,
          encode: encodeMs,
          ocr: ocrMs,
          model: clock.now() - modelStarted,
        },
        ocrCached: text?.cached === true,
        tokens: this.#tokens,
      };
      if (this.#tokens > this.#spec.maxTokens) {
        const f = failure(
          "budget-exceeded",
          `${this.#tokens} tokens used, the budget is ${this.#spec.maxTokens}`,
        );
        return { end: "fail", failure: f, frame, note };
      }
      const checked = call === undefined
        ? { ok: false as const, error: "the reply called no tool; call exactly one of the tools" }
        : decide(call.name, call.arguments, scale);
      if (!checked.ok) {
        if (repaired) {
          return { end: "fail", failure: failure("bad-model-output", checked.error, false), frame, note };
        }
        repaired = true;
        this.#messages.push(
          call === undefined ? { role: "user", content: `Your reply was not usable: ${checked.error}.` } : {
            role: "tool",
            tool_call_id: call.id,
            content: `Not done: ${checked.error}. Call the tool again.`,
          },
        );
        continue;
      }
      const decision = checked.decision;
      if (decision.kind === "done") return { end: "done", summary: decision.summary, frame, note };
      if (decision.kind === "fail") {
        return {
          end: "fail",
          failure: failure("action-failed", `the agent gave up: ${decision.reason}`, false),
          frame,
          note,
        };
      }
      this.#steps++;
      this.#lastCallId = call!.id;
      return { step: decision.step, frame, note, screen: text };
    }
  }

  async #read(frame: Frame): Promise<ScreenText | null> {
    if (this.#deps.ocr === null) return null;
    try {
      return await this.#deps.ocr.read(frame, { signal: this.#spec.run.signal });
    } catch {
      return null;
    }
  }

  /** Only the newest screenshot stays in the conversation: older ones become a note (tokens). */
  #dropOldImages(): void {
    for (const message of this.#messages) {
      if (message.role !== "user" || typeof message.content === "string") continue;
      const text = message.content.find((part) => part.type === "text");
      message.content = `${text?.type === "text" ? text.text : ""} (screenshot omitted)`;
    }
  }
}

/** The frame as the model sees it: a JPEG at most `MODEL_IMAGE_WIDTH` wide. */
async function forModel(frame: Frame): Promise<{ jpeg: Uint8Array; width: number; height: number }> {
  const width = Math.min(MODEL_IMAGE_WIDTH, frame.originalWidth);
  const height = Math.round(frame.originalHeight * (width / frame.originalWidth));
  const sharp = await loadSharp();
  const jpeg = await sharp(frame.image).resize(width, height, { fit: "fill" }).jpeg({ quality: 80 })
    .toBuffer();
  return { jpeg: new Uint8Array(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength), width, height };
}

/** OCR words as a hint line, in screenshot pixels. */
function hints(text: ScreenText | null, scale: Scale): string {
  if (text === null) return " (no screen text available)";
  if (text.words.length === 0) return " No text on screen.";
  const words = text.words.slice(0, 150).map((w) =>
    `"${w.text}"@${Math.round(w.x / scale.x)},${Math.round(w.y / scale.y)},${Math.round(w.width / scale.x)},${
      Math.round(w.height / scale.y)
    }`
  );
  return ` Screen text: ${words.join(" ")}`;
}

function short(value: unknown): string {
  const text = JSON.stringify(value);
  return text.length > 400 ? `${text.slice(0, 400)}…` : text;
}
