/**
 * The embedded Brain: carries out one step of a node on its device. Device actions go through the
 * dispatcher as they are; the steps that look first are decided here, on the server, with deterministic
 * code: `waitFor` polls a condition (text on screen by OCR, a window title, a stable file, a changed screen)
 * until it holds or its timeout passes (`condition-timeout`), and `clickText` finds a text on screen and
 * clicks the centre of its box (`text-not-found` when it is missing or ambiguous). Every outcome says which
 * frame the decision used, for the step log. Devices stay thin: they act and capture; the server sees.
 */
import type { ClickTextStepSchema, DeviceAction, Step, WaitForStepSchema } from "../../shared/actions.ts";
import { sleep, type Timers } from "../../shared/clock.ts";
import { type Failure, failure, type FrameMeta, toFailure } from "../../shared/protocol/mod.ts";
import type { z } from "zod";
import type { ActionDispatcher } from "../gateway/action_dispatcher.ts";
import type { GetFrameOptions, StoredFrame } from "../media/frame_store.ts";
import { frameDifference } from "./frames.ts";
import type { TextMatch } from "./text_match.ts";
import type { Frame, OcrEngine, ScreenText } from "./types.ts";

/** Finds every occurrence of `phrase` in the screen's words, in reading order (`text_match.ts`). */
export type FindText = (screen: ScreenText, phrase: string) => TextMatch[];

/** How a step ended, with the frame its decision used (if it looked at the screen). */
export type StepOutcome =
  & { frame?: Frame }
  & ({ ok: true; output?: unknown } | { ok: false; error: Failure });

/** Where and for which task a step runs. */
export interface StepRun {
  deviceId: string;
  /** The node's task; none for an operator's own `clickText`/`waitFor` through the REST API. */
  taskId?: string;
  /** Aborted when the attempt stops (cancel, deadline, device lost): the step ends at once. */
  signal: AbortSignal;
  /** The frame taken before the previous step, for `waitFor screenChange`. */
  baseline?: Frame | null;
}

/** Where captures come from: the latest-frame store (`server/media/frame_store.ts`), fed by either path. */
export interface FrameSource {
  getFrame(deviceId: string, options: GetFrameOptions): Promise<StoredFrame | null>;
}

/** What the executor needs. */
export interface StepExecutorDeps {
  dispatcher: ActionDispatcher;
  frames: FrameSource;
  clock: Timers;
  /** Reads screen text; null when no OCR engine is available (text steps then fail `ocr-unavailable`). */
  ocr: OcrEngine | null;
  findText: FindText;
  /** Pause between two looks while waiting (default 400 ms). */
  pollMs?: number;
  /** Share of the screen that must change for `screenChange` (default 0.5 %). */
  changeThreshold?: number;
}

type WaitFor = z.output<typeof WaitForStepSchema>;
type ClickText = z.output<typeof ClickTextStepSchema>;

/** Carries out steps on devices. */
export class StepExecutor {
  constructor(readonly deps: StepExecutorDeps) {}

  /** Runs one step; never rejects. */
  async execute(step: Step, run: StepRun): Promise<StepOutcome> {
    try {
      switch (step.type) {
        case "wait":
          // A timer of 0 ms still costs the event loop's timer tick (1–2 ms in Deno): no wait, no timer.
          if (step.ms > 0) await sleep(this.deps.clock, step.ms, run.signal);
          return this.#stopped(run) ?? { ok: true };
        case "waitFor":
          return await this.#waitFor(step, run);
        case "clickText":
          return await this.#clickText(step, run);
        default:
          return await this.#device(step, run);
      }
    } catch (error) {
      return { ok: false, error: failure("internal", String(error), true) };
    }
  }

  /** A fresh frame of the device's screen (PNG, full size: lossless for OCR), through the frame store. */
  async capture(run: StepRun): Promise<{ ok: true; frame: Frame } | { ok: false; error: Failure }> {
    let stored: StoredFrame | null;
    try {
      stored = await this.deps.frames.getFrame(run.deviceId, {
        fresh: true,
        format: "png",
        scale: 1,
        quality: 80,
        taskId: run.taskId,
        signal: run.signal,
      });
    } catch (error) {
      return { ok: false, error: toFailure(error) };
    }
    if (stored === null) return { ok: false, error: failure("no-frame") };
    return { ok: true, frame: frameOf(stored) };
  }

  async #device(action: DeviceAction, run: StepRun): Promise<StepOutcome> {
    const outcome = await this.deps.dispatcher.execute(run.deviceId, action, {
      taskId: run.taskId,
      signal: run.signal,
      timeoutMs: null,
    });
    if (!outcome.ok) return { ok: false, error: outcome.error };
    if (outcome.frame === undefined) return { ok: true, output: outcome.output };
    return { ok: true, output: outcome.output, frame: frameOf(outcome.frame) };
  }

  async #waitFor(step: WaitFor, run: StepRun): Promise<StepOutcome> {
    const deadline = this.deps.clock.now() + step.timeoutMs;
    let lastFrame: Frame | undefined;
    let seen = "";
    let previousSize: number | null = null;
    let baseline = run.baseline ?? null;
    for (;;) {
      const stopped = this.#stopped(run);
      if (stopped) return stopped;
      if (step.text !== undefined) {
        const look = await this.#look(run);
        if (!look.ok) return look;
        lastFrame = look.frame;
        const matches = this.deps.findText(look.screen, step.text);
        if (matches.length > 0) return { ok: true, output: { match: matches[0] }, frame: lastFrame };
        seen = summary(look.screen);
      } else if (step.window !== undefined) {
        const outcome = await this.#device({ type: "windows" }, run);
        if (!outcome.ok) return outcome;
        const windows = (outcome.output as { windows?: Array<{ title: string }> })?.windows ?? [];
        const wanted = step.window.toLowerCase();
        const found = windows.find((w) => w.title.toLowerCase().includes(wanted));
        if (found) return { ok: true, output: { window: found } };
        seen = windows.map((w) => JSON.stringify(w.title)).join(", ") || "no windows";
      } else if (step.file !== undefined) {
        const outcome = await this.#device({ type: "fileInfo", path: step.file }, run);
        if (!outcome.ok) return outcome;
        const info = outcome.output as { exists: boolean; size?: number };
        // Stable: the same size on two looks a poll apart.
        if (info.exists && previousSize !== null && info.size === previousSize) {
          return { ok: true, output: { file: step.file, size: info.size } };
        }
        previousSize = info.exists ? info.size ?? 0 : null;
        seen = info.exists
          ? `${step.file} is ${info.size} bytes and still changing`
          : `${step.file} does not exist`;
      } else {
        const capture = await this.capture(run);
        if (!capture.ok) return capture;
        lastFrame = capture.frame;
        if (baseline === null) baseline = capture.frame;
        else {
          const changed = await frameDifference(baseline, capture.frame);
          if (changed > (this.deps.changeThreshold ?? 0.005)) {
            return { ok: true, output: { changed }, frame: lastFrame };
          }
          seen = `${(changed * 100).toFixed(2)} % of the screen differs`;
        }
      }
      const remainingMs = deadline - this.deps.clock.now();
      if (remainingMs <= 0) {
        const detail = `${describe(step)} after ${step.timeoutMs} ms${seen ? `; seen: ${seen}` : ""}`;
        return {
          ok: false,
          error: failure("condition-timeout", detail),
          ...(lastFrame ? { frame: lastFrame } : {}),
        };
      }
      await sleep(this.deps.clock, Math.min(this.deps.pollMs ?? 400, remainingMs), run.signal);
    }
  }

  async #clickText(step: ClickText, run: StepRun): Promise<StepOutcome> {
    const deadline = this.deps.clock.now() + step.timeoutMs;
    for (;;) {
      const stopped = this.#stopped(run);
      if (stopped) return stopped;
      const look = await this.#look(run);
      if (!look.ok) return look;
      const matches = this.deps.findText(look.screen, step.text);
      const chosen = step.occurrence !== undefined
        ? matches[step.occurrence - 1]
        : matches.length === 1
        ? matches[0]
        : undefined;
      if (chosen !== undefined) {
        const { x, y } = chosen.centre;
        const click = await this.#device(
          { type: "click", x, y, button: step.button, double: step.double },
          run,
        );
        if (!click.ok) return { ...click, frame: look.frame };
        const { text, box, confidence } = chosen;
        return {
          ok: true,
          output: { clicked: { x, y }, match: { text, box, confidence } },
          frame: look.frame,
        };
      }
      if (matches.length > 1) {
        const where = matches.map((m) => `(${m.centre.x},${m.centre.y})`).join(", ");
        const detail = `"${step.text}" is on screen ${matches.length} times, at ${where}: give an occurrence`;
        return { ok: false, error: failure("text-not-found", detail, false), frame: look.frame };
      }
      const remainingMs = deadline - this.deps.clock.now();
      if (remainingMs <= 0 || (step.occurrence !== undefined && matches.length > 0)) {
        const wanted = step.occurrence === undefined
          ? ""
          : ` (occurrence ${step.occurrence} of ${matches.length})`;
        const detail = `"${step.text}"${wanted} not found; seen: ${summary(look.screen)}`;
        return { ok: false, error: failure("text-not-found", detail), frame: look.frame };
      }
      await sleep(this.deps.clock, Math.min(this.deps.pollMs ?? 400, remainingMs), run.signal);
    }
  }

  /** A fresh frame and its text. */
  async #look(
    run: StepRun,
  ): Promise<{ ok: true; frame: Frame; screen: ScreenText } | { ok: false; error: Failure; frame?: Frame }> {
    const ocr = this.deps.ocr;
    if (ocr === null) return { ok: false, error: failure("ocr-unavailable") };
    const capture = await this.capture(run);
    if (!capture.ok) return capture;
    try {
      return {
        ok: true,
        frame: capture.frame,
        screen: await ocr.read(capture.frame, { signal: run.signal }),
      };
    } catch (error) {
      const f = (error as { failure?: Failure }).failure ?? failure("internal", String(error), true);
      return { ok: false, error: f, frame: capture.frame };
    }
  }

  #stopped(run: StepRun): StepOutcome | null {
    if (!run.signal.aborted) return null;
    return { ok: false, error: failure("cancelled", String(run.signal.reason ?? "cancelled"), false) };
  }
}

/** A frame as it arrived (wire metadata and image) as the Brain keeps it. */
function frameOf({ meta, image }: { meta: FrameMeta; image: Uint8Array }): Frame {
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

/** The condition a `waitFor` names, for messages. */
function describe(step: WaitFor): string {
  if (step.text !== undefined) return `text "${step.text}" not on screen`;
  if (step.window !== undefined) return `no window titled like "${step.window}"`;
  if (step.file !== undefined) return `file ${step.file} not present and stable`;
  return "the screen did not change";
}

/** What OCR saw, shortened for a message. */
function summary(screen: ScreenText): string {
  const text = screen.words.map((w) => w.text).join(" ");
  if (text.length === 0) return "no text";
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
