/**
 * The Brain's own cost per agent step, the model excluded: a real server, a device on the real protocol
 * that answers at once with a real 1280x800 frame, and a local chat-completions server that answers at once
 * with a `move` (then `done`). Per step, from the step log: frame (REQUEST_FRAME to image at the Brain, plus
 * scaling and JPEG encoding for the model), OCR (0 when no engine), the model call (here: request build, the
 * local HTTP round trip, parse), and the action (dispatch to RESULT). One run; p50 and p99 over the steps.
 */
import { startAutoDevice } from "../tests/helpers/auto_device.ts";
import { startChatServer } from "../tests/helpers/chat_server.ts";
import { submitDag, waitForDag } from "../tests/helpers/dags.ts";
import { startTestServer } from "../tests/helpers/server.ts";
import { ascending, percentile } from "./stats.ts";

const STEPS = Number(Deno.env.get("BENCH_BRAIN_STEPS") ?? 60);

const chat = startChatServer((request) => {
  const turns = request.body.messages.filter((m) => m.role === "assistant").length;
  return turns >= STEPS
    ? { toolCalls: [{ name: "done", arguments: { summary: "done" } }] }
    : { toolCalls: [{ name: "move", arguments: { x: 10 + (turns % 100), y: 20 } }] };
});
const server = await startTestServer([
  "--llm-base-url",
  chat.baseUrl,
  "--llm-model",
  "bench",
  "--max-step-frames",
  "0",
]);
const device = await startAutoDevice(server.wsUrl, server.deviceKey, "bench-desk");
try {
  const started = performance.now();
  const id = await submitDag(server, {
    name: "brain bench",
    nodes: [{
      id: "a",
      kind: "agent",
      target: { device: "bench-desk" },
      goal: "move around",
      maxSteps: STEPS + 1,
    }],
  });
  const view = await waitForDag(server, id, 600_000);
  const totalMs = performance.now() - started;
  if (view.state !== "succeeded") throw new Error(`the agent node ended ${view.state}`);
  const steps = (await (await server.api(`/api/dags/${id}/nodes/a/steps`)).json()).steps as Array<{
    type: string;
    startedAt: number;
    endedAt: number;
    output: {
      decision?: {
        ocrCached?: boolean;
        ms: { frame: number; capture: number; encode: number; ocr: number; model: number };
      };
    };
  }>;
  const moves = steps.filter((s) => s.type === "move" && s.output.decision !== undefined);
  const pick = (f: (s: (typeof moves)[number]) => number) => ascending(moves.map(f));
  const rows: Array<[string, number[]]> = [
    ["frame: REQUEST_FRAME → image at the Brain", pick((s) => s.output.decision!.ms.capture)],
    ["frame: scale and JPEG for the model", pick((s) => s.output.decision!.ms.encode)],
    ["OCR", pick((s) => s.output.decision!.ms.ocr)],
    ["model call (build, local HTTP, parse)", pick((s) => s.output.decision!.ms.model)],
    ["action (dispatch → RESULT)", pick((s) => s.endedAt - s.startedAt)],
    [
      "all of it, per step",
      pick((s) =>
        s.output.decision!.ms.frame + s.output.decision!.ms.ocr + s.output.decision!.ms.model + s.endedAt -
        s.startedAt
      ),
    ],
  ];
  console.log(`\n## Brain overhead per agent step, model answering at once (${moves.length} steps, one run)`);
  console.log("| part | p50 ms | p99 ms |\n| --- | --- | --- |");
  for (const [name, xs] of rows) {
    console.log(`| ${name} | ${percentile(xs, 0.5)} | ${percentile(xs, 0.99)} |`);
  }
  console.log(`Whole node: ${(totalMs / moves.length).toFixed(1)} ms per step from submission to the end.`);
  console.log(`Frames the device sent: ${device.frames}; model calls: ${chat.requests.length}.`);
  const fresh = ascending(
    moves.filter((s) => !s.output.decision!.ocrCached).map((s) => s.output.decision!.ms.ocr),
  );
  console.log(
    `OCR: ${fresh.length} of ${moves.length} steps read a new frame (p50 ${
      percentile(fresh, 0.5)
    } ms); the rest reused ` +
      "the text of an identical earlier frame (the bench's screen does not change).",
  );
} finally {
  await device.close();
  await server.close();
  await chat.close();
}
